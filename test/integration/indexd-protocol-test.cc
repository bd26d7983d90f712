// The corner cases p2p-protocol(7) settles for the index, each against a
// real ./indexd: what is refused with which code, what keeps the
// connection, and how registrations combine.
#include "indexd-harness.h"

#include <catch2/catch.hpp>

using namespace fixtures;
using namespace indexd_test;
using p2p::ErrorCode;

namespace {

// Sends `msg`, expects ERROR `code`, then the connection closed.
void refused_and_closed(const p2p::Message& msg, ErrorCode code)
{
	Indexd index;
	Client c;
	index.connect(c);
	REQUIRE(c.send(msg));
	CHECK(next_error(c) == code);
	CHECK(c.closed_by_peer());
}

std::optional<p2p::MsgType> ok_of(Client& c, const p2p::Message& msg)
{
	auto r = ask<p2p::Ok>(c, msg);
	return r ? std::optional(r->of) : std::nullopt;
}

std::vector<std::uint16_t> ports_of(const std::vector<p2p::PeerHolding>& holders)
{
	std::vector<std::uint16_t> ports;
	for (auto& h : holders)
		ports.push_back(h.port);
	return ports;
}

} // namespace

TEST_CASE("indexd: out-of-range fields are malformed (5), a long name is a bad name (6)",
          "[indexd][integration][protocol]")
{
	refused_and_closed(p2p::List{"", 0}, ErrorCode::Malformed);
	refused_and_closed(p2p::List{"", p2p::kMaxListPage + 1}, ErrorCode::Malformed);
	refused_and_closed(p2p::Register{0, {}}, ErrorCode::Malformed);
	refused_and_closed(p2p::Lookup{std::string(p2p::kMaxName + 1, 'a')}, ErrorCode::BadName);
	refused_and_closed(p2p::Register{6001, {{std::string(p2p::kMaxName + 1, 'a'), 1, hash_of(1)}}},
	                   ErrorCode::BadName);
}

TEST_CASE("indexd: LIST's `after` is a position, not a name", "[indexd][integration][protocol]")
{
	Indexd index;
	Client peer, c;
	index.connect(peer);
	index.connect(c);
	REQUIRE(ok_of(peer, p2p::Register{6001, {{"b", 1, hash_of(1)}}}));
	// ".a" breaks the name rule, yet sorts before "b" and is accepted.
	auto page = ask<p2p::ListReply>(c, p2p::List{".a", 10});
	REQUIRE(page);
	REQUIRE(page->entries.size() == 1);
	CHECK(page->entries[0].name == "b");
}

TEST_CASE("indexd: messages for other roles get unknown-type (3); PONG is ignored",
          "[indexd][integration][protocol]")
{
	refused_and_closed(p2p::ManifestRequest{"a", 0}, ErrorCode::UnknownType);
	refused_and_closed(p2p::Ok{p2p::MsgType::Register}, ErrorCode::UnknownType);
	refused_and_closed(p2p::Error{ErrorCode::NotFound, 0, "x"}, ErrorCode::UnknownType);

	Indexd index;
	Client c;
	index.connect(c);
	REQUIRE(c.send(p2p::Pong{5}));
	auto pong = ask<p2p::Pong>(c, p2p::Ping{6});
	REQUIRE(pong);
	CHECK(pong->token == 6);
}

TEST_CASE("indexd: registration corner cases", "[indexd][integration][protocol]")
{
	Indexd index;
	Client peer, c;
	index.connect(peer);
	index.connect(c);

	// UNREGISTER before REGISTER is acknowledged; UPDATE is not-registered
	// and the connection stays.
	CHECK(ok_of(peer, p2p::Unregister{}) == p2p::MsgType::Unregister);
	auto e = ask<p2p::Error>(peer, p2p::Update{{{"x", 1, hash_of(1)}}, {}});
	REQUIRE(e);
	CHECK(e->code == ErrorCode::NotRegistered);

	// A name twice in one REGISTER: the later entry wins.
	REQUIRE(ok_of(peer, p2p::Register{6001, {{"d", 1, hash_of(1)}, {"d", 2, hash_of(2)}}}));
	auto holders = lookup(c, "d");
	REQUIRE(holders.size() == 1);
	CHECK(holders[0].hash == hash_of(2));

	// Removing a name not held is ignored; added then removed in one UPDATE:
	// removed.
	CHECK(ok_of(peer, p2p::Update{{{"e", 1, hash_of(3)}}, {"never-held", "e"}}) == p2p::MsgType::Update);
	CHECK(lookup(c, "e").empty());

	// A second REGISTER with another port starts over under that port.
	REQUIRE(ok_of(peer, p2p::Register{6002, {{"f", 1, hash_of(4)}}}));
	CHECK(lookup(c, "d").empty());
	CHECK(ports_of(lookup(c, "f")) == std::vector<std::uint16_t>{6002});

	// REGISTER after UNREGISTER registers afresh.
	CHECK(ok_of(peer, p2p::Unregister{}) == p2p::MsgType::Unregister);
	CHECK(lookup(c, "f").empty());
	REQUIRE(ok_of(peer, p2p::Register{6003, {{"g", 1, hash_of(5)}}}));
	CHECK(ports_of(lookup(c, "g")) == std::vector<std::uint16_t>{6003});
}

TEST_CASE("indexd: a REGISTER refused for address-in-use (8) keeps its connection",
          "[indexd][integration][protocol]")
{
	Indexd index;
	Client first, second;
	index.connect(first);
	index.connect(second);
	REQUIRE(ok_of(first, p2p::Register{6001, {}}));
	auto e = ask<p2p::Error>(second, p2p::Register{6001, {}});
	REQUIRE(e);
	CHECK(e->code == ErrorCode::AddressInUse);
	CHECK(ok_of(second, p2p::Register{6002, {}}) == p2p::MsgType::Register);
}

TEST_CASE("indexd: STATS states the TTL and the feature bits", "[indexd][integration][protocol]")
{
	Indexd index({}, "12");
	Client c;
	index.connect(c);
	auto s = stats(c);
	REQUIRE(s.count("features"));
	CHECK(s["features"] == p2p::kFeaturePartialHolders);
	CHECK(s["ttl_ms"] == 12000);
}

TEST_CASE("indexd: partial holders appear in LOOKUP_HOLDERS only, with their chunk count",
          "[indexd][integration][protocol][swarm]")
{
	Indexd index;
	Client seed, leech, c;
	index.connect(seed);
	index.connect(leech);
	index.connect(c);
	REQUIRE(stats(c)["features"] & p2p::kFeaturePartialHolders);
	REQUIRE(ok_of(seed, p2p::Register{6001, {{"f", 10, hash_of(1)}}}));
	REQUIRE(ok_of(leech, p2p::Register{41000, {}}));
	CHECK(ok_of(leech, p2p::UpdatePartial{{{{"f", 10, hash_of(1)}, 2}}}) == p2p::MsgType::UpdatePartial);

	CHECK(ports_of(lookup(c, "f")) == std::vector<std::uint16_t>{6001});
	auto all = ask<p2p::HoldersReply>(c, p2p::LookupHolders{"f"});
	REQUIRE(all);
	REQUIRE(all->peers.size() == 2);
	for (auto& h : all->peers)
		CHECK(h.chunks == (h.port == 6001 ? p2p::kCompleteHolding : 2u));
	auto page = ask<p2p::ListReply>(c, p2p::List{"", 10});
	REQUIRE(page);
	REQUIRE(page->entries.size() == 1);
	CHECK(page->entries[0].peers == 1);

	// Complete now: plain lookups list it too.
	REQUIRE(ok_of(leech, p2p::Update{{{"f", 10, hash_of(1)}}, {}}));
	CHECK(lookup(c, "f").size() == 2);

	// Before REGISTER: refused, the connection stays.
	Client early;
	index.connect(early);
	early.send(p2p::UpdatePartial{{{{"f", 10, hash_of(1)}, 1}}});
	CHECK(next_error(early) == ErrorCode::NotRegistered);
	CHECK(ask<p2p::HoldersReply>(early, p2p::LookupHolders{"nothing"}));
}
