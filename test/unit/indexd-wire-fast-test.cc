// The hand-written hot-path frames must match the codec byte for byte.
#include "../../src/indexd/wire-fast.h"

#include <catch2/catch.hpp>

#include <random>

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

TEST_CASE("quick_header agrees with check_header or defers to it", "[indexd][wire-fast]")
{
	auto lookup = p2p::encode(p2p::Lookup{"a/b"});
	p2p::FrameHeader h{};
	REQUIRE(quick_header(lookup.data(), lookup.size(), h));
	CHECK(h.type == p2p::MsgType::Lookup);
	CHECK(h.length == lookup.size() - p2p::kHeaderSize);
	std::string_view name;
	REQUIRE(lookup_name(lookup.data() + p2p::kHeaderSize, h.length, name));
	CHECK(name == "a/b");
	CHECK_FALSE(lookup_name(lookup.data() + p2p::kHeaderSize, h.length - 1, name));
	CHECK_FALSE(lookup_name(lookup.data() + p2p::kHeaderSize, 1, name));

	// Too short, another type, too long: not for the fast path.
	CHECK_FALSE(quick_header(lookup.data(), p2p::kHeaderSize - 1, h));
	auto stats = p2p::encode(p2p::Stats{});
	CHECK_FALSE(quick_header(stats.data(), stats.size(), h));
	auto big = lookup;
	big[4] = std::byte{0x01}; // 16 MiB
	CHECK_FALSE(quick_header(big.data(), big.size(), h));

	// Random headers: whenever the fast path says yes, the codec agrees.
	std::mt19937 rng(7);
	for (int i = 0; i < 20000; i++) {
		std::vector<std::byte> b(p2p::kHeaderSize);
		for (auto& x : b)
			x = std::byte(static_cast<std::uint8_t>(rng()));
		if (i % 2) { // make half of them plausible
			b[0] = std::byte{0x50};
			b[1] = std::byte{0x32};
			b[2] = std::byte{p2p::kVersion};
			b[3] = std::byte(static_cast<std::uint8_t>(i % 4 ? 0x04 : 0x0a));
			b[4] = std::byte{0};
			b[5] = std::byte(static_cast<std::uint8_t>(rng() % 0x20));
		}
		p2p::FrameHeader q{}, c{};
		if (quick_header(b.data(), b.size(), q)) {
			auto d = p2p::check_header(b, c);
			REQUIRE(d.status == p2p::DecodeStatus::Ok);
			CHECK(q.type == c.type);
			CHECK(q.length == c.length);
		}
	}
}
