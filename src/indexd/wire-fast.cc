// Hand-written LOOKUP / LOOKUP_REPLY / PONG; see wire-fast.h.
#include "wire-fast.h"

#include <cstring>

namespace indexd {
namespace {

std::byte* put_u16(std::byte* p, std::uint16_t v)
{
	p[0] = std::byte(v >> 8);
	p[1] = std::byte(v & 0xff);
	return p + 2;
}
std::byte* put_u32(std::byte* p, std::uint32_t v)
{
	p = put_u16(p, static_cast<std::uint16_t>(v >> 16));
	return put_u16(p, static_cast<std::uint16_t>(v));
}
std::byte* put_u64(std::byte* p, std::uint64_t v)
{
	p = put_u32(p, static_cast<std::uint32_t>(v >> 32));
	return put_u32(p, static_cast<std::uint32_t>(v));
}
std::uint16_t get_u16(const std::byte* p)
{
	return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) << 8 | std::to_integer<unsigned>(p[1]));
}

} // namespace

bool lookup_name(const std::byte* payload, std::size_t len, std::string_view& name)
{
	if (len < 2 || len != 2u + get_u16(payload))
		return false;
	name = {reinterpret_cast<const char*>(payload + 2), len - 2};
	return true;
}

void append_lookup_reply(std::vector<std::byte>& out, std::string_view name, std::span<const p2p::PeerHolding> holders)
{
	std::size_t body = 2 + name.size() + 4 + holders.size() * p2p::kPeerHoldingSize;
	std::size_t at = out.size();
	out.resize(at + p2p::kHeaderSize + body);
	std::byte* w = out.data() + at;
	w = put_u16(w, p2p::kMagic);
	*w++ = std::byte(p2p::kVersion);
	*w++ = std::byte(static_cast<std::uint8_t>(p2p::MsgType::LookupReply));
	w = put_u32(w, static_cast<std::uint32_t>(body));
	w = put_u16(w, static_cast<std::uint16_t>(name.size()));
	std::memcpy(w, name.data(), name.size());
	w += name.size();
	w = put_u32(w, static_cast<std::uint32_t>(holders.size()));
	for (const auto& h : holders) {
		std::memcpy(w, h.host.data(), 16);
		w = put_u16(w + 16, h.port);
		w = put_u64(w, h.size);
		std::memcpy(w, h.hash.data(), p2p::kHashSize);
		w += p2p::kHashSize;
	}
}

void append_pong(std::vector<std::byte>& out, const std::byte* ping_frame)
{
	constexpr std::size_t len = p2p::kHeaderSize + 8;
	std::size_t at = out.size();
	out.resize(at + len);
	std::memcpy(out.data() + at, ping_frame, len);
	out[at + 3] = std::byte(static_cast<std::uint8_t>(p2p::MsgType::Pong));
}

} // namespace indexd
