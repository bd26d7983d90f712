// The version rule: most holders wins; ties broken the same way every run.
#include "../../src/p2pget/version-choice.h"

#include <catch2/catch.hpp>

using p2pget::choose_version;

namespace {

p2p::PeerHolding holder(std::uint16_t port, std::uint64_t size, std::uint8_t hash)
{
	p2p::PeerHolding h;
	h.host[15] = 1;
	h.port = port;
	h.size = size;
	h.hash.fill(hash);
	return h;
}

} // namespace

TEST_CASE("version choice: one version, every holder", "[p2pget][version]")
{
	auto c = choose_version({holder(1, 10, 7), holder(2, 10, 7)});
	CHECK(c.versions == 1);
	CHECK(c.size == 10);
	CHECK(c.holders.size() == 2);
}

TEST_CASE("version choice: the version most peers hold wins", "[p2pget][version]")
{
	auto c = choose_version({holder(1, 10, 1), holder(2, 20, 2), holder(3, 20, 2), holder(4, 30, 3)});
	CHECK(c.versions == 3);
	CHECK(c.size == 20);
	CHECK(c.hash[0] == 2);
	REQUIRE(c.holders.size() == 2);
	CHECK(c.holders[0].port == 2);
	CHECK(c.holders[1].port == 3);
}

TEST_CASE("version choice: ties go to the larger file, then the smaller hash", "[p2pget][version]")
{
	auto bigger = choose_version({holder(1, 10, 1), holder(2, 20, 2)});
	CHECK(bigger.size == 20);
	auto same_size = choose_version({holder(1, 10, 9), holder(2, 10, 3)});
	CHECK(same_size.hash[0] == 3);
	// Order of the reply does not matter.
	auto reversed = choose_version({holder(2, 10, 3), holder(1, 10, 9)});
	CHECK(reversed.hash == same_size.hash);
}

TEST_CASE("version choice: same content under different sizes counts apart", "[p2pget][version]")
{
	auto c = choose_version({holder(1, 10, 5), holder(2, 11, 5), holder(3, 11, 5)});
	CHECK(c.versions == 2);
	CHECK(c.size == 11);
}
