// Chunk maps against a real chunk server (the library, in this process):
// HAVE_REQUEST gets a HAVE_MAP whose bits are the verified chunks, a chunk
// verified later arrives as a HAVE on that connection only (and only for
// the version asked), a HAVE never splits a CHUNK_DATA's bytes, and a
// request for another file, another version or a path outside gets an
// error with the connection kept (or, for a bad name, the usual refusal).
#include "serve-harness.h"

using namespace serve_test;
using namespace std::chrono_literals;

namespace {

p2p::HaveRequest have_req(const PartialSource& s) { return {"part.bin", kSize, s.content_}; }

// Marks `chunk` verified and announces it, on the server's loop.
void verify(ServerThread& server, PartialSource& source, std::uint32_t chunk)
{
	server.run_on_loop([&](serve::ChunkServer& s) {
		source.verified_[chunk] = true;
		s.announce("part.bin", chunk);
	});
}

} // namespace

TEST_CASE("serve library: HAVE_MAP has the verified chunks, then HAVE for each one verified later",
          "[serve][maps]")
{
	PartialFile part(21, {0, 3, 8});
	ServerThread server(part.source, part.counters);
	Client asked, other;
	REQUIRE(asked.connect(server.port()));
	REQUIRE(other.connect(server.port()));

	auto st = ask<p2p::StatsReply>(asked, p2p::Stats{});
	REQUIRE(st);
	CHECK(st->counters.front() == std::pair<std::string, std::uint64_t>{"features", p2p::kFeatureChunkMaps | p2p::kFeatureSpareRequests});

	auto map = ask<p2p::HaveMap>(asked, have_req(part.source));
	REQUIRE(map);
	CHECK(map->name == "part.bin");
	CHECK(map->have == std::vector<bool>{true, false, false, true, false, false, false, false, true});

	verify(server, part.source, 5);
	auto have = asked.recv();
	REQUIRE(have);
	REQUIRE(std::holds_alternative<p2p::Have>(*have));
	CHECK(std::get<p2p::Have>(*have) == p2p::Have{"part.bin", 5});
	// The chunk is served now; and a connection that asked no map hears nothing.
	auto five = chunk(asked, {1, "part.bin", part.source.content_, 5 * kChunk, kChunk});
	REQUIRE(five.data);
	CHECK(five.bytes == read_all(part.path()).substr(5 * kChunk, kChunk));
	auto pong = ask<p2p::Pong>(other, p2p::Ping{77});
	REQUIRE(pong);
	CHECK(pong->token == 77);

	// Asked again, the map has the new chunk; one subscription, one HAVE each.
	auto again = ask<p2p::HaveMap>(asked, have_req(part.source));
	REQUIRE(again);
	CHECK(again->have[5]);
	verify(server, part.source, 6);
	auto six = asked.recv();
	REQUIRE(six);
	CHECK(std::get<p2p::Have>(*six) == p2p::Have{"part.bin", 6});
	auto pong2 = ask<p2p::Pong>(asked, p2p::Ping{78});
	REQUIRE(pong2); // no second HAVE for 6 came before it
	CHECK(pong2->token == 78);
}

TEST_CASE("serve library: a HAVE waits behind chunk bytes already queued", "[serve][maps][rate]")
{
	PartialFile part(22, {0, 1, 2, 3});
	std::string bytes = read_all(part.path());
	serve::ChunkServerLimits limits;
	limits.rate_limit = 256 * 1024; // four chunks take about a second
	ServerThread server(part.source, part.counters, limits);
	Client c;
	REQUIRE(c.connect(server.port()));
	REQUIRE(ask<p2p::HaveMap>(c, have_req(part.source)));
	REQUIRE(c.send(p2p::ChunkRequest{1, "part.bin", part.source.content_, 0, 4 * kChunk}));
	auto head = c.recv();
	REQUIRE(head);
	REQUIRE(std::holds_alternative<p2p::ChunkData>(*head));
	verify(server, part.source, 7); // while the bytes are still going out
	auto raw = c.recv_raw(4 * kChunk, 10s);
	REQUIRE(raw);
	CHECK(*raw == bytes.substr(0, 4 * kChunk));
	auto have = c.recv();
	REQUIRE(have);
	CHECK(std::get<p2p::Have>(*have) == p2p::Have{"part.bin", 7});
}

TEST_CASE("serve library: HAVE_REQUEST for another file or version is refused, the connection kept",
          "[serve][maps]")
{
	PartialFile part(23, {1});
	ServerThread server(part.source, part.counters);
	Client c;
	REQUIRE(c.connect(server.port()));

	auto missing = ask<p2p::Error>(c, p2p::HaveRequest{"other.bin", kSize, part.source.content_});
	REQUIRE(missing);
	CHECK(missing->code == p2p::ErrorCode::NotFound);
	CHECK(missing->ref == 0);
	p2p::Hash wrong = part.source.content_;
	wrong[0] ^= 1;
	for (auto& req : {p2p::HaveRequest{"part.bin", kSize, wrong}, p2p::HaveRequest{"part.bin", kSize + 1, part.source.content_}}) {
		auto changed = ask<p2p::Error>(c, req);
		REQUIRE(changed);
		CHECK(changed->code == p2p::ErrorCode::Changed);
		CHECK(changed->ref == 0);
	}
	// Nothing was subscribed: a verified chunk brings no HAVE, the next
	// request is answered, and an unverified chunk is still refused.
	verify(server, part.source, 2);
	auto pong = ask<p2p::Pong>(c, p2p::Ping{5});
	REQUIRE(pong);
	auto unverified = chunk(c, {9, "part.bin", part.source.content_, 4 * kChunk, kChunk});
	REQUIRE(unverified.error);
	CHECK(unverified.error->code == p2p::ErrorCode::NotFound);
	CHECK(unverified.bytes.empty());

	// A path outside is not a name at all: refused, no bytes.
	Client bad;
	REQUIRE(bad.connect(server.port()));
	auto outside = ask<p2p::Error>(bad, p2p::HaveRequest{"../part.bin", kSize, part.source.content_});
	REQUIRE(outside);
	CHECK(outside->code == p2p::ErrorCode::BadName);
}

TEST_CASE("serve library: FETCHING goes where HAVE goes, for chunks not verified yet", "[serve][maps]")
{
	PartialFile part(24, {0});
	ServerThread server(part.source, part.counters);
	Client asked, other;
	REQUIRE(asked.connect(server.port()));
	REQUIRE(other.connect(server.port()));
	REQUIRE(ask<p2p::HaveMap>(asked, have_req(part.source)));
	server.run_on_loop([](serve::ChunkServer& s) {
		s.announce_fetching("part.bin", 0); // verified already: nothing to say
		s.announce_fetching("part.bin", 4);
		s.announce_fetching("other.bin", 1); // not served
	});
	auto f = asked.recv();
	REQUIRE(f);
	REQUIRE(std::holds_alternative<p2p::Fetching>(*f));
	CHECK(std::get<p2p::Fetching>(*f) == p2p::Fetching{"part.bin", 4});
	verify(server, part.source, 4);
	auto h = asked.recv();
	REQUIRE(h);
	CHECK(std::get<p2p::Have>(*h) == p2p::Have{"part.bin", 4});
	auto pong = ask<p2p::Pong>(other, p2p::Ping{3}); // never subscribed: nothing came
	REQUIRE(pong);
	CHECK(pong->token == 3);
}
