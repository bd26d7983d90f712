// The hand-written hot-path frames must match the codec byte for byte.
#include "../../src/indexd/wire-fast.h"

#include <catch2/catch.hpp>


using namespace indexd;

namespace {

p2p::PeerHolding holding(std::uint8_t seed)
{
	p2p::PeerHolding h;
	for (std::size_t i = 0; i < h.host.size(); i++)
		h.host[i] = static_cast<std::uint8_t>(seed * 7 + i);
	h.port = static_cast<std::uint16_t>(0xa000 + seed);
	h.size = 0x0102030405060708ull * seed;
	h.hash.fill(static_cast<std::uint8_t>(seed ^ 0x5a));
	return h;
}

} // namespace

TEST_CASE("append_lookup_reply matches the codec", "[indexd][wire-fast]")
{
	for (std::size_t n : {0u, 1u, 3u, 100u, static_cast<unsigned>(p2p::kMaxLookupPeers)}) {
		std::vector<p2p::PeerHolding> holders;
		for (std::size_t i = 0; i < n; i++)
			holders.push_back(holding(static_cast<std::uint8_t>(i)));
		std::string name = "dir/ünïcode name " + std::to_string(n);
		std::vector<std::byte> ours{std::byte{0xee}}; // appends, keeps what was there
		append_lookup_reply(ours, name, holders);
		auto theirs = p2p::encode(p2p::LookupReply{name, holders});
		theirs.insert(theirs.begin(), std::byte{0xee});
		INFO(n);
		CHECK(ours == theirs);
	}
}

TEST_CASE("append_pong answers a ping with its token", "[indexd][wire-fast]")
{
	auto ping = p2p::encode(p2p::Ping{0x1122334455667788ull});
	std::vector<std::byte> out;
	append_pong(out, ping.data());
	CHECK(out == p2p::encode(p2p::Pong{0x1122334455667788ull}));
}

TEST_CASE("lookup_name reads the name of a LOOKUP payload, or refuses it", "[indexd][wire-fast]")
{
	auto lookup = p2p::encode(p2p::Lookup{"a/b"});
	std::size_t len = lookup.size() - p2p::kHeaderSize;
	std::string_view name;
	REQUIRE(lookup_name(lookup.data() + p2p::kHeaderSize, len, name));
	CHECK(name == "a/b");
	CHECK_FALSE(lookup_name(lookup.data() + p2p::kHeaderSize, len - 1, name));
	CHECK_FALSE(lookup_name(lookup.data() + p2p::kHeaderSize, 1, name));
}
