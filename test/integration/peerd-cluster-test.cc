// peerd in a closed cluster (--secret-file): the index link and every
// chunk connection MAC'd frame by frame (chunk bytes stay raw); a client
// without the secret is refused with BadAuth and gets no data; a peer with
// the wrong secret cannot register and keeps retrying; bad secret files
// stop the start.
#include "peerd-harness.h"

#include "p2p/frame-step.h"

#include <algorithm>
#include <csignal>

using namespace peerd_test;

namespace {

struct Cluster {
	TempDir keys;
	p2p::SecretKey secret = test_secret(1);
	std::string secret_path = write_secret(keys, secret);
	Index index;
	Peer peer;
	Cluster() { index.start({"--secret-file", secret_path}); }
};

} // namespace

TEST_CASE("peerd cluster: with the secret it registers and serves as before", "[peerd][cluster]")
{
	Cluster cl;
	write_file(cl.peer.dir / "data.bin", 2 * p2p::kChunkSize + 1234, 7);
	cl.peer.start(cl.index.addr(), {"--secret-file", cl.secret_path});
	REQUIRE(cl.peer.ready());
	auto listed = [&] {
		for (auto& h : holders_with(cl.index.port, "data.bin", &cl.secret))
			if (h.port == cl.peer.port)
				return true;
		return false;
	};
	REQUIRE(eventually(listed, 10s));
	auto s = index_stats(cl.index.port, &cl.secret);
	CHECK(s["signed_registers"] == 1);
	CHECK(s["bad_macs"] == 0);
	CHECK(cl.peer.log().find("closed cluster") != std::string::npos);

	auto c = connect_client(cl.peer.port, &cl.secret);
	auto m = manifest(*c, "data.bin");
	REQUIRE(m);
	REQUIRE(m->chunk_count == 3);
	// Pipelined: each ChunkData header is MAC'd (the client checks it, and
	// the MAC counter must follow across the raw bytes between frames).
	for (std::uint32_t i = 0; i < 3; i++) {
		std::uint64_t off = std::uint64_t{i} * p2p::kChunkSize;
		auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(p2p::kChunkSize, m->size - off));
		REQUIRE(c->send(p2p::ChunkRequest{i, "data.bin", m->content_hash, off, len}));
	}
	for (std::uint32_t i = 0; i < 3; i++) {
		auto r = read_chunk_reply(*c);
		REQUIRE(r.data);
		CHECK(r.data->id == i);
		std::uint64_t off = std::uint64_t{i} * p2p::kChunkSize;
		CHECK(r.bytes == file_bytes(cl.peer.dir / "data.bin", off, r.data->length));
		CHECK(p2p::hash_bytes(r.bytes.data(), r.bytes.size()) == m->chunk_hashes[i]);
	}
	// And the connection goes on after raw bytes.
	CHECK(ask<p2p::Pong>(*c, p2p::Ping{5}));
	CHECK(peer_counter(cl.peer, "bad_macs") == 0);
	CHECK(peer_counter(cl.peer, "chunks_served") == 3);
}

TEST_CASE("peerd cluster: a client without the secret is refused and gets no data", "[peerd][cluster]")
{
	Cluster cl;
	write_file(cl.peer.dir / "data.bin", p2p::kChunkSize, 8);
	cl.peer.start(cl.index.addr(), {"--secret-file", cl.secret_path});
	REQUIRE(cl.peer.ready());
	auto hash = file_content_hash(cl.peer.dir / "data.bin");
	std::uint64_t expected = 0;

	SECTION("no MAC, one request then waiting: BadAuth within the grace")
	{
		Client plain;
		REQUIRE(plain.connect(cl.peer.port));
		REQUIRE(plain.send(p2p::ChunkRequest{1, "data.bin", hash, 0, 4096}));
		auto r = plain.recv(8s);
		REQUIRE(r);
		REQUIRE(std::holds_alternative<p2p::Error>(*r));
		CHECK(std::get<p2p::Error>(*r).code == p2p::ErrorCode::BadAuth);
		CHECK(plain.closed_by_peer());
		expected = 1;
	}
	SECTION("no MAC, pipelined: BadAuth at once")
	{
		Client plain;
		REQUIRE(plain.connect(cl.peer.port));
		for (int i = 0; i < 4; i++)
			REQUIRE(plain.send(p2p::ManifestRequest{"data.bin", 0}));
		auto r = plain.recv(2s);
		REQUIRE(r);
		REQUIRE(std::holds_alternative<p2p::Error>(*r));
		CHECK(std::get<p2p::Error>(*r).code == p2p::ErrorCode::BadAuth);
		CHECK(plain.closed_by_peer());
		expected = 1;
	}
	SECTION("the wrong secret")
	{
		p2p::SecretKey wrong = test_secret(2);
		auto c = connect_client(cl.peer.port, &wrong);
		REQUIRE(c->send(p2p::ManifestRequest{"data.bin", 0}));
		// The Error is sealed with the peer's secret: this client rejects it.
		CHECK_FALSE(c->recv(3s));
		CHECK(c->closed_by_peer());
		expected = 1;
	}
	CHECK(peer_counter(cl.peer, "chunks_served") == 0);
	CHECK(peer_counter(cl.peer, "manifest_requests") == 0);
	CHECK(peer_counter(cl.peer, "bad_macs") == expected);
	// Those with the secret are served meanwhile.
	auto c = connect_client(cl.peer.port, &cl.secret);
	CHECK(manifest(*c, "data.bin"));
	REQUIRE(cl.peer.stop() == 0);
	CHECK(logged_counter(cl.peer.log(), "bad_macs") == expected);
	auto log = cl.peer.log();
	auto summary = log.rfind("refused or dropped so far: ");
	REQUIRE(summary != std::string::npos);
	CHECK(log.find("bad_macs=" + std::to_string(expected), summary) < log.find('\n', summary));
}

TEST_CASE("peerd cluster: a whole frame without its MAC is refused at the 2 s grace, not at the frame deadline",
          "[peerd][cluster]")
{
	Cluster cl;
	write_file(cl.peer.dir / "data.bin", 1000, 9);
	cl.peer.start(cl.index.addr(), {"--secret-file", cl.secret_path});
	REQUIRE(cl.peer.ready());
	Client plain;
	REQUIRE(plain.connect(cl.peer.port));
	auto start = std::chrono::steady_clock::now();
	REQUIRE(plain.send(p2p::ManifestRequest{"data.bin", 0}));
	auto r = plain.recv(20s);
	auto waited = std::chrono::steady_clock::now() - start;
	REQUIRE(r);
	REQUIRE(std::holds_alternative<p2p::Error>(*r));
	CHECK(std::get<p2p::Error>(*r).code == p2p::ErrorCode::BadAuth);
	CHECK(std::get<p2p::Error>(*r).text == p2p::refusal(p2p::FrameFault::MacMissing).why);
	CHECK(plain.closed_by_peer());
	CHECK(waited < 7s); // the grace (2 s), well before a chunk session's frame deadline (10 s)
	CHECK(peer_counter(cl.peer, "bad_macs") == 1);
	CHECK(peer_counter(cl.peer, "frame_timeouts") == 0);
	CHECK(peer_counter(cl.peer, "manifest_requests") == 0);
}

TEST_CASE("peerd cluster: over the connection limit the Busy refusal is MAC'd", "[peerd][cluster][limits]")
{
	Cluster cl;
	write_text(cl.peer.dir / "f", "f");
	// 32 descriptors are kept back: 40 leave room for 8 connections.
	cl.peer.start(cl.index.addr(), {"--secret-file", cl.secret_path}, {"/usr/bin/prlimit", "--nofile=40"});
	REQUIRE(cl.peer.ready());
	std::vector<std::unique_ptr<Client>> held;
	std::optional<p2p::Error> busy;
	for (int i = 0; i < 20 && !busy; i++) {
		held.push_back(connect_client(cl.peer.port, &cl.secret));
		auto r = held.back()->send(p2p::Ping{1}) ? held.back()->recv() : std::nullopt;
		REQUIRE(r);
		if (auto* e = std::get_if<p2p::Error>(&*r))
			busy = *e;
		else
			REQUIRE(std::holds_alternative<p2p::Pong>(*r));
	}
	INFO("connections before Busy: " << held.size());
	REQUIRE(busy); // a client with the secret accepts its MAC
	CHECK(busy->code == p2p::ErrorCode::Busy);
	CHECK(held.size() == 9);
}

TEST_CASE("peerd cluster: with the wrong secret it cannot register, and keeps trying", "[peerd][cluster]")
{
	Cluster cl;
	write_text(cl.peer.dir / "f", "f");
	TempDir other;
	cl.peer.start(cl.index.addr(), {"--secret-file", write_secret(other, test_secret(3))});
	REQUIRE(eventually([&] { return cl.peer.log().find("cannot register with the index") != std::string::npos; }));
	std::this_thread::sleep_for(3s);
	REQUIRE(cl.peer.proc->running());
	auto s = index_stats(cl.index.port, &cl.secret);
	CHECK(s["registers"] == 0);
	CHECK(s["bad_macs"] >= 1);
	CHECK(holders_with(cl.index.port, "f", &cl.secret).empty());
	// Retried with backoff (at most 2 s apart), not in a tight loop.
	auto connects = peer_counter(cl.peer, "index_connects");
	REQUIRE(connects);
	CHECK(*connects >= 2);
	CHECK(*connects <= 12);
	CHECK(peer_counter(cl.peer, "index_refused") >= 1);
	// Said once at warn, not once per try.
	auto log = cl.peer.log();
	std::size_t warns = 0;
	for (auto at = log.find("cannot register with the index"); at != std::string::npos;
	     at = log.find("cannot register with the index", at + 1))
		warns++;
	CHECK(warns == 1);
	CHECK(cl.peer.stop() == 0);
}

TEST_CASE("peerd cluster: an unreadable or malformed secret file stops the start", "[peerd][cluster][args]")
{
	Peer peer;
	TempDir keys;
	auto start = [&](const std::string& file) {
		return run({bin("peerd"), "-d", peer.dir.string(), "-p", std::to_string(peer.port), "-i",
		            "127.0.0.1:" + std::to_string(free_port()), "--secret-file", file});
	};
	SECTION("missing")
	{
		auto r = start((keys / "none").string());
		CHECK(r.status == 1);
		CHECK(r.err.find("peerd: --secret-file") == 0);
	}
	SECTION("too short")
	{
		write_text(keys / "short", "0123456789");
		auto r = start((keys / "short").string());
		CHECK(r.status == 1);
		CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
		CHECK(r.err.find("peerd: --secret-file") == 0);
	}
	SECTION("no value")
	{
		auto r = run({bin("peerd"), "-d", peer.dir.string(), "--secret-file"});
		CHECK(r.status == 2);
	}
}
