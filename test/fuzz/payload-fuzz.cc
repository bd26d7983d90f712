// libFuzzer target aimed at each message decoder: the first byte picks the
// message type, the rest is the payload, so the fuzzer spends its time
// inside the payload layouts (the manifest's among them) instead of
// rediscovering the frame header.
#include "p2p/codec.h"

#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	if (size < 1 || size - 1 > p2p::kMaxPayload)
		return 0;
	static constexpr std::uint8_t types[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
	                                         0x0a, 0x0b, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x20, 0x21, 0x22, 0x23,
	                                         // swarming, appended so the seeds' first bytes keep their types
	                                         0x13, 0x14, 0x15, 0x24, 0x25, 0x26, 0x27};
	std::uint8_t type = types[data[0] % sizeof types];
	std::size_t len = size - 1;
	std::vector<std::byte> frame{std::byte{0x50}, std::byte{0x32}, std::byte{p2p::kVersion}, std::byte{type},
	                             std::byte(len >> 24), std::byte(len >> 16), std::byte(len >> 8), std::byte(len)};
	frame.insert(frame.end(), reinterpret_cast<const std::byte*>(data + 1), reinterpret_cast<const std::byte*>(data + size));
	p2p::Decoded d = p2p::decode(frame);
	if (d.status == p2p::DecodeStatus::NeedMore)
		std::abort(); // a whole frame always gets a verdict
	if (d.status == p2p::DecodeStatus::Ok) {
		auto again = p2p::encode(d.message);
		if (again.size() != frame.size() || std::memcmp(again.data(), frame.data(), frame.size()) != 0)
			std::abort();
	}
	return 0;
}
