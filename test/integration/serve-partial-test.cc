// The chunk server library on its own, in this process, serving a fake
// download in progress (a test-only ServeSource with some chunks verified,
// as p2pget will): verified chunks are served, any range touching an
// unverified one gets NotFound with the request's id and the connection
// goes on; open failures follow the ServeSource contract; and a server
// freed mid-transfer under a rate limit frees cleanly.
#include "serve-harness.h"

using namespace serve_test;

TEST_CASE("serve library: a partial source serves its verified chunks and nothing else", "[serve][partial]")
{
	PartialFile part(11, {0, 2, 3, 8});
	std::string bytes = read_all(part.path());
	ServerThread server(part.source, part.counters);
	Client c;
	REQUIRE(c.connect(server.port()));
	const p2p::Hash h = part.source.content_;

	// The manifest is whole: a partial holder knows every hash.
	auto m = ask<p2p::Manifest>(c, p2p::ManifestRequest{"part.bin", 0});
	REQUIRE(m);
	CHECK(m->size == kSize);
	CHECK(m->chunk_size == kChunk);
	CHECK(m->chunk_count == 9);
	CHECK(m->content_hash == h);
	CHECK(m->chunk_hashes == part.source.hashes_);

	auto one = chunk(c, {1, "part.bin", h, 0, kChunk});
	REQUIRE(one.data);
	CHECK(one.bytes == bytes.substr(0, kChunk));
	auto two_three = chunk(c, {2, "part.bin", h, 2 * kChunk + 5, 2 * kChunk - 10});
	REQUIRE(two_three.data);
	CHECK(two_three.bytes == bytes.substr(2 * kChunk + 5, 2 * kChunk - 10));
	auto last = chunk(c, {3, "part.bin", h, 8 * kChunk, 1000});
	REQUIRE(last.data);
	CHECK(last.bytes == bytes.substr(8 * kChunk));

	// Unverified, wholly or by one byte: NotFound, the request's id as ref,
	// no bytes, and the next request on the connection is answered.
	const std::vector<p2p::ChunkRequest> refused{
		{4, "part.bin", h, kChunk, kChunk},          // chunk 1
		{5, "part.bin", h, kChunk - 1, 2},           // last byte of 0, first of 1
		{6, "part.bin", h, 4 * kChunk - 1, 2},       // last byte of 3, first of 4
		{7, "part.bin", h, 0, static_cast<std::uint32_t>(kSize)}, // all of it
	};
	for (auto& req : refused) {
		INFO("request " << req.id);
		auto r = chunk(c, req);
		REQUIRE(r.error);
		CHECK(r.error->code == p2p::ErrorCode::NotFound);
		CHECK(r.error->ref == req.id);
		CHECK_FALSE(r.data);
	}
	// Outside the file and another version keep their own codes.
	auto past = chunk(c, {8, "part.bin", h, kSize - 10, 11});
	REQUIRE(past.error);
	CHECK(past.error->code == p2p::ErrorCode::BadRange);
	p2p::Hash other = h;
	other[3] ^= 1;
	auto changed = chunk(c, {9, "part.bin", other, 0, 10});
	REQUIRE(changed.error);
	CHECK(changed.error->code == p2p::ErrorCode::Changed);
	auto missing = ask<p2p::Error>(c, p2p::ManifestRequest{"other.bin", 0});
	REQUIRE(missing);
	CHECK(missing->code == p2p::ErrorCode::NotFound);

	// Still the same connection, and the STATS answer is the source's.
	auto again = chunk(c, {10, "part.bin", h, 3 * kChunk, 16});
	REQUIRE(again.data);
	CHECK(again.bytes == bytes.substr(3 * kChunk, 16));
	auto stats = stats_of(c);
	CHECK(stats["partial_source"] == 1);
	CHECK(stats["chunks_served"] == 4);
	CHECK(stats["bytes_served"] == kChunk + (2 * kChunk - 10) + 1000 + 16);
	CHECK(stats["errors_not_found"] == 5); // the four above and the manifest of other.bin
	CHECK(stats["errors_bad_range"] == 1);
	CHECK(stats["errors_changed"] == 1);
	CHECK(stats["chunk_requests"] == 10);
	CHECK(stats["manifest_requests"] == 2);
	CHECK(part.source.changed_names().empty());
}

TEST_CASE("serve library: open failures follow the ServeSource contract", "[serve][partial]")
{
	PartialFile part(12);
	part.verify_all();
	ServerThread server(part.source, part.counters);
	Client c;
	REQUIRE(c.connect(server.port()));
	const p2p::Hash h = part.source.content_;

	part.source.fail_open = EMFILE; // out of descriptors: Busy, the file is not suspected
	auto busy = chunk(c, {1, "part.bin", h, 0, 10});
	REQUIRE(busy.error);
	CHECK(busy.error->code == p2p::ErrorCode::Busy);
	CHECK(busy.error->ref == 1);
	CHECK(part.source.changed_names().empty());

	part.source.fail_open = ESTALE; // not the bytes described: Changed, and looked at again
	auto stale = chunk(c, {2, "part.bin", h, 0, 10});
	REQUIRE(stale.error);
	CHECK(stale.error->code == p2p::ErrorCode::Changed);
	CHECK(stale.error->text.find("changed since") != std::string::npos);
	CHECK(part.source.changed_names() == std::vector<std::string>{"part.bin"});

	auto fine = chunk(c, {3, "part.bin", h, 0, 10});
	REQUIRE(fine.data);
	auto stats = stats_of(c);
	CHECK(stats["files_busy"] == 1);
	CHECK(stats["errors_changed"] == 1);
	CHECK(stats["chunks_served"] == 1);
}

TEST_CASE("serve library: freed mid-transfer under a rate limit, it frees cleanly", "[serve][rate][signals]")
{
	PartialFile part(13);
	part.verify_all();
	serve::ChunkServerLimits limits;
	limits.rate_limit = 64 * 1024; // the whole file takes 8 s
	ServerThread server(part.source, part.counters, limits);
	std::vector<std::unique_ptr<Client>> clients;
	for (int i = 0; i < 3; i++) {
		clients.push_back(std::make_unique<Client>());
		REQUIRE(clients.back()->connect(server.port()));
		REQUIRE(clients.back()->send(
			p2p::ChunkRequest{1, "part.bin", part.source.content_, 0, static_cast<std::uint32_t>(kSize)}));
		auto head = clients.back()->recv();
		REQUIRE(head);
		REQUIRE(std::holds_alternative<p2p::ChunkData>(*head));
	}
	// Before the fix, libevent aborted here (the group freed with members).
	server.stop();
	CHECK(part.counters.connections == 4); // wait_for_port's probe, then the three
	CHECK(clients.front()->closed_by_peer());
}
