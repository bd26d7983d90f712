// libFuzzer target: a byte stream decoded frame by frame, as a session
// would. Every frame that decodes must re-encode to the same bytes.
#include "p2p/codec.h"

#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
	while (!in.empty()) {
		p2p::Decoded d = p2p::decode(in);
		if (d.status != p2p::DecodeStatus::Ok)
			break;
		if (d.consumed == 0 || d.consumed > in.size())
			std::abort();
		auto again = p2p::encode(d.message);
		if (again.size() != d.consumed || std::memcmp(again.data(), in.data(), d.consumed) != 0)
			std::abort();
		in = in.subspan(d.consumed);
	}
	return 0;
}
