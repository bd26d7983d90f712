// The seeding decision after the downloads are done, with the clock
// passed in: a lone download stops at once, a swarm keeps its seeds while
// anyone fetches or is still partial, and --seed-time caps it.
#include "p2pget/seed-policy.h"

#include <catch2/catch.hpp>

using p2pget::SeedPolicy;

TEST_CASE("seed policy: a lone download stops as soon as the index says nobody else is partial", "[p2pget][seed]")
{
	SeedPolicy p(30, 100.0);
	CHECK(p.keep(100.0)); // waiting for the index's answer
	p.holders(false);
	CHECK_FALSE(p.keep(100.01));
	CHECK(p.why(100.01) == "nobody else is downloading");
}

TEST_CASE("seed policy: no answer from the index at all stops after a second", "[p2pget][seed]")
{
	SeedPolicy p(30, 100.0);
	CHECK(p.keep(100.9));
	CHECK_FALSE(p.keep(100.0 + SeedPolicy::kAnswerWait));
}

TEST_CASE("seed policy: keeps serving while someone fetched a moment ago", "[p2pget][seed]")
{
	SeedPolicy p(30, 100.0);
	p.holders(false);
	p.served(100.5);
	CHECK(p.keep(102.4));
	CHECK(p.why(102.4) == "serving");
	CHECK_FALSE(p.keep(100.5 + SeedPolicy::kRecent));
	p.served(110.0);
	CHECK(p.keep(111.0));
}

TEST_CASE("seed policy: keeps serving while others are partial, up to the seed time", "[p2pget][seed]")
{
	SeedPolicy p(30, 100.0);
	p.holders(true);
	CHECK(p.keep(110.0));
	CHECK(p.keep(129.9));
	CHECK_FALSE(p.keep(130.0));
	CHECK(p.why(130.0) == "seed time over");
	p.served(129.99);
	CHECK_FALSE(p.keep(130.0)); // the cap holds over everything
	SeedPolicy later(30, 100.0);
	later.holders(true);
	later.holders(false); // the last one finished
	CHECK_FALSE(later.keep(105.0));
}

TEST_CASE("seed policy: --seed-time 0 never seeds", "[p2pget][seed]")
{
	SeedPolicy p(0, 100.0);
	p.holders(true);
	p.served(100.0);
	CHECK_FALSE(p.keep(100.0));
}

TEST_CASE("seed policy: other partial holders of the same version, not us", "[p2pget][seed]")
{
	p2p::Hash h{};
	h[0] = 7;
	p2p::IpBytes me{}, other{};
	me[15] = 1;
	other[15] = 2;
	p2p::HoldersReply r{"f", {}};
	r.peers.push_back({me, 7000, 10, h, 3});                      // us, partial
	r.peers.push_back({other, 7001, 10, h, p2p::kCompleteHolding}); // complete
	auto is_me = [&](const p2p::PeerHolding& x) { return x.host == me && x.port == 7000; };
	CHECK_FALSE(p2pget::others_partial(r, 10, h, is_me));
	r.peers.push_back({other, 7002, 11, h, 2}); // another version
	CHECK_FALSE(p2pget::others_partial(r, 10, h, is_me));
	r.peers.push_back({other, 7000, 10, h, 0}); // our port, another host
	CHECK(p2pget::others_partial(r, 10, h, is_me));
	CHECK_FALSE(p2pget::others_partial(r, 10, h, [](const p2p::PeerHolding&) { return true; }));
}
