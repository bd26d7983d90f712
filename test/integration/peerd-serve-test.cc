// peerd serving chunks: bytes equal to the file at every offset that
// matters, nothing outside DIR ever served, errors for refused requests,
// the upload rate limit, and bad command lines.
#include "peerd-harness.h"

#include <map>
#include <sstream>

#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace peerd_test;

namespace {

// An index address where nothing listens: the peer serves anyway.
std::string no_index() { return "127.0.0.1:" + std::to_string(free_port()); }

} // namespace

TEST_CASE("peerd serves the file's bytes: first, middle, last partial chunk, empty file", "[peerd][serve]")
{
	Peer peer;
	const std::uint64_t size = 2 * p2p::kChunkSize + 12345;
	write_file(peer.dir / "big.bin", size, 7);
	write_file(peer.dir / "sub/dir/small", 100, 8);
	write_text(peer.dir / "empty", "");
	peer.start(no_index());
	REQUIRE(peer.ready());

	Client c;
	REQUIRE(c.connect(peer.port));
	std::vector<p2p::Hash> chunks;
	p2p::Hash content = file_content_hash(peer.dir / "big.bin", &chunks);
	auto m = manifest(c, "big.bin");
	REQUIRE(m);
	CHECK(m->size == size);
	CHECK(m->chunk_size == p2p::kChunkSize);
	CHECK(m->chunk_count == 3);
	CHECK(m->first_chunk == 0);
	CHECK(m->content_hash == content);
	CHECK(m->chunk_hashes == chunks);

	// Pipelined: three requests out before any answer is read; the answers
	// come back in the order asked.
	struct Want {
		std::uint32_t id;
		std::uint64_t offset;
		std::uint32_t length;
	};
	std::vector<Want> wants = {
		{11, 2 * std::uint64_t(p2p::kChunkSize), 12345}, // last, partial
		{12, 0, p2p::kChunkSize},                         // first
		{13, p2p::kChunkSize + 1000, 3000},               // inside the middle one
	};
	for (auto& w : wants)
		REQUIRE(c.send(p2p::ChunkRequest{w.id, "big.bin", content, w.offset, w.length}));
	for (auto& w : wants) {
		INFO("request " << w.id);
		auto r = read_chunk_reply(c);
		REQUIRE(r.data);
		CHECK(r.data->id == w.id);
		CHECK(r.data->offset == w.offset);
		CHECK(r.data->length == w.length);
		CHECK(r.bytes == file_bytes(peer.dir / "big.bin", w.offset, w.length));
	}

	auto sm = manifest(c, "sub/dir/small");
	REQUIRE(sm);
	REQUIRE(c.send(p2p::ChunkRequest{14, "sub/dir/small", sm->content_hash, 0, 100}));
	auto small = read_chunk_reply(c);
	REQUIRE(small.data);
	CHECK(small.bytes == read_all(peer.dir / "sub/dir/small"));

	auto em = manifest(c, "empty");
	REQUIRE(em);
	CHECK(em->size == 0);
	CHECK(em->chunk_count == 0);
	CHECK(em->chunk_hashes.empty());
	CHECK(em->content_hash == p2p::hash_bytes("", 0));
	REQUIRE(c.send(p2p::ChunkRequest{15, "empty", em->content_hash, 0, 0}));
	auto er = read_chunk_reply(c);
	REQUIRE(er.data);
	CHECK(er.data->length == 0);

	// The same over IPv6: the listener is dual-stack.
	Client c6;
	REQUIRE(c6.connect(peer.port, true));
	REQUIRE(c6.send(p2p::ChunkRequest{16, "big.bin", content, 0, 4096}));
	auto r6 = read_chunk_reply(c6);
	REQUIRE(r6.data);
	CHECK(r6.bytes == file_bytes(peer.dir / "big.bin", 0, 4096));

	REQUIRE(peer.stop() == 0);
	CHECK(peer.log().find("chunks_served=6") != std::string::npos);
}

TEST_CASE("peerd serves offsets past 4 GiB of a sparse file", "[peerd][serve][large]")
{
	Peer peer;
	const std::uint64_t size = (4ull << 30) + 3 * p2p::kChunkSize + 999;
	const std::uint64_t marker_at = (4ull << 30) + p2p::kChunkSize + 7;
	const std::string marker = "past four gibibytes";
	{
		int fd = ::open((peer.dir / "sparse").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		REQUIRE(fd >= 0);
		REQUIRE(::ftruncate(fd, static_cast<off_t>(size)) == 0);
		REQUIRE(::pwrite(fd, marker.data(), marker.size(), static_cast<off_t>(marker_at)) ==
		        static_cast<ssize_t>(marker.size()));
		::close(fd);
	}
	write_text(peer.dir / "small", "served while the big one hashes");
	peer.start(no_index());
	// The daemon answers while it hashes: "small" is served before the
	// 4 GiB file is done.
	{
		Client early;
		REQUIRE(early.connect(peer.port));
		CHECK(eventually([&] { return manifest(early, "small").has_value(); }, 30s));
		CHECK(peer.log().find("ready: sharing") == std::string::npos);
	}
	// Hashing 4 GiB of holes takes a few seconds on two cores.
	REQUIRE(peer.ready(120s));

	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "sparse");
	REQUIRE(m);
	CHECK(m->size == size);
	CHECK(m->chunk_count == p2p::chunk_count(size, p2p::kChunkSize));
	// The chunk holding the marker, and the last, partial one.
	std::uint64_t chunk_at = (4ull << 30) + p2p::kChunkSize;
	REQUIRE(c.send(p2p::ChunkRequest{1, "sparse", m->content_hash, chunk_at, p2p::kChunkSize}));
	auto r = read_chunk_reply(c);
	REQUIRE(r.data);
	CHECK(r.data->offset == chunk_at);
	REQUIRE(r.bytes.size() == p2p::kChunkSize);
	CHECK(r.bytes.substr(7, marker.size()) == marker);
	CHECK(r.bytes == file_bytes(peer.dir / "sparse", chunk_at, p2p::kChunkSize));
	// Its hash is the manifest's, so the whole path agrees past 4 GiB.
	std::uint64_t index = chunk_at / p2p::kChunkSize;
	std::uint32_t first = static_cast<std::uint32_t>(index / p2p::kMaxManifestPage * p2p::kMaxManifestPage);
	auto page = manifest(c, "sparse", first);
	REQUIRE(page);
	CHECK(page->chunk_hashes.at(index - first) == p2p::hash_bytes(r.bytes.data(), r.bytes.size()));

	REQUIRE(c.send(p2p::ChunkRequest{2, "sparse", m->content_hash, size - 999, 999}));
	auto last = read_chunk_reply(c);
	REQUIRE(last.data);
	CHECK(last.bytes == std::string(999, '\0'));
	peer.stop();
}

TEST_CASE("peerd refuses names and ranges it must not serve", "[peerd][serve][safety]")
{
	TempDir outside;
	write_text(outside / "secret", "outside DIR");
	Peer peer;
	write_text(peer.dir / "public", "public bytes");
	write_text(peer.dir / ".hidden", "hidden");
	write_text(peer.dir / ".peerd/extra", "state");
	write_text(peer.dir / "sub/.partial", "partial");
	fs::create_symlink(outside / "secret", peer.dir / "link");
	fs::create_directory_symlink(outside.path(), peer.dir / "linkdir");
	peer.start(no_index());
	REQUIRE(peer.ready());
	p2p::Hash pub = file_content_hash(peer.dir / "public");

	SECTION("unsafe names are refused with BadName and the connection closes")
	{
		for (const std::string& bad : std::vector<std::string>{"../outside/secret", "/etc/passwd", std::string("pub\0lic", 7),
		                                                      ".hidden", ".peerd/hashes", "sub/.partial", "sub/../public"}) {
			INFO("name: " << bad);
			Client c;
			REQUIRE(c.connect(peer.port));
			REQUIRE(c.send(p2p::ChunkRequest{77, bad, pub, 0, 5}));
			auto reply = c.recv();
			REQUIRE(reply);
			REQUIRE(std::holds_alternative<p2p::Error>(*reply));
			CHECK(std::get<p2p::Error>(*reply).code == p2p::ErrorCode::BadName);
			CHECK(c.closed_by_peer());
		}
		REQUIRE(peer.stop() == 0);
		CHECK(peer.log().find("errors_protocol=7 ") != std::string::npos);
		CHECK(peer.log().find("chunks_served=0 ") != std::string::npos);
	}
	SECTION("safe names that are not shared get NotFound, and the connection goes on")
	{
		Client c;
		REQUIRE(c.connect(peer.port));
		for (std::string name : {"missing", "link", "linkdir/secret"}) {
			INFO("name: " << name);
			auto m = ask<p2p::Error>(c, p2p::ManifestRequest{name, 0});
			REQUIRE(m);
			CHECK(m->code == p2p::ErrorCode::NotFound);
			REQUIRE(c.send(p2p::ChunkRequest{5, name, pub, 0, 5}));
			auto r = read_chunk_reply(c);
			REQUIRE(r.error);
			CHECK(r.error->code == p2p::ErrorCode::NotFound);
			CHECK(r.error->ref == 5);
		}
		// Wrong version, bad ranges: each its own error, with the request id.
		p2p::Hash other = pub;
		other[0] ^= 1;
		REQUIRE(c.send(p2p::ChunkRequest{6, "public", other, 0, 5}));
		REQUIRE(c.send(p2p::ChunkRequest{7, "public", pub, 10, 5}));
		REQUIRE(c.send(p2p::ChunkRequest{8, "public", pub, 1ull << 40, 1}));
		REQUIRE(c.send(p2p::ChunkRequest{9, "public", pub, 0, 12}));
		auto r6 = read_chunk_reply(c), r7 = read_chunk_reply(c), r8 = read_chunk_reply(c), r9 = read_chunk_reply(c);
		REQUIRE(r6.error);
		CHECK(r6.error->code == p2p::ErrorCode::Changed);
		CHECK(r6.error->ref == 6);
		REQUIRE(r7.error);
		CHECK(r7.error->code == p2p::ErrorCode::BadRange);
		CHECK(r7.error->ref == 7);
		REQUIRE(r8.error);
		CHECK(r8.error->code == p2p::ErrorCode::BadRange);
		REQUIRE(r9.data);
		CHECK(r9.data->id == 9);
		CHECK(r9.bytes == "public bytes");
	}
	SECTION("a symlink swapped in after hashing is never followed")
	{
		fs::create_symlink(outside / "secret", peer.dir / "swap-tmp");
		fs::rename(peer.dir / "swap-tmp", peer.dir / "public"); // atomic swap
		Client c;
		REQUIRE(c.connect(peer.port));
		REQUIRE(c.send(p2p::ChunkRequest{3, "public", pub, 0, 5}));
		auto r = read_chunk_reply(c);
		REQUIRE(r.error); // Changed, or NotFound once the rescan saw the link
		CHECK(r.bytes.empty());
		CHECK((r.error->code == p2p::ErrorCode::Changed || r.error->code == p2p::ErrorCode::NotFound));
		// And the link is dropped from the share soon after.
		CHECK(eventually(
			[&] {
				Client c2;
				return c2.connect(peer.port) && ask<p2p::Error>(c2, p2p::ManifestRequest{"public", 0}).has_value();
			},
			5s));
	}
	SECTION("a file changed in place after hashing gets Changed, then is served in its new version")
	{
		write_text(peer.dir / "public", "PUBLIC BYTES"); // same size, new bytes, new mtime
		Client c;
		REQUIRE(c.connect(peer.port));
		REQUIRE(c.send(p2p::ChunkRequest{4, "public", pub, 0, 12}));
		auto r = read_chunk_reply(c);
		REQUIRE(r.error);
		CHECK(r.error->code == p2p::ErrorCode::Changed);
		p2p::Hash now = file_content_hash(peer.dir / "public");
		CHECK(eventually(
			[&] {
				auto m = manifest(c, "public");
				return m && m->content_hash == now;
			},
			5s));
		REQUIRE(c.send(p2p::ChunkRequest{5, "public", now, 0, 12}));
		auto fresh = read_chunk_reply(c);
		REQUIRE(fresh.data);
		CHECK(fresh.bytes == "PUBLIC BYTES");
	}
	peer.stop();
}

TEST_CASE("peerd --rate-limit slows uploads down", "[peerd][serve][rate]")
{
	Peer peer;
	write_file(peer.dir / "four", 4u << 20, 3);
	peer.start(no_index(), {"--rate-limit", "1M"});
	REQUIRE(peer.ready());
	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "four");
	REQUIRE(m);
	auto t0 = std::chrono::steady_clock::now();
	REQUIRE(c.send(p2p::ChunkRequest{1, "four", m->content_hash, 0, p2p::kChunkSize}));
	REQUIRE(c.send(p2p::ChunkRequest{2, "four", m->content_hash, p2p::kChunkSize, p2p::kChunkSize}));
	auto a = read_chunk_reply(c, 30s);
	auto b = read_chunk_reply(c, 30s);
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	REQUIRE(a.data);
	REQUIRE(b.data);
	CHECK(a.bytes + b.bytes == read_all(peer.dir / "four"));
	// 4 MiB at 1 MiB/s: about 4 s; a loose bound that cannot flake.
	CHECK(secs > 2.0);
	peer.stop();
}

TEST_CASE("peerd SIGTERM lets a transfer in flight finish", "[peerd][serve][signals]")
{
	Peer peer;
	write_file(peer.dir / "two", 2u << 20, 4);
	peer.start(no_index(), {"--rate-limit", "1M"});
	REQUIRE(peer.ready());
	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "two");
	REQUIRE(m);
	REQUIRE(c.send(p2p::ChunkRequest{1, "two", m->content_hash, 0, 2u << 20}));
	std::this_thread::sleep_for(300ms);
	peer.proc->signal(SIGTERM);
	auto r = read_chunk_reply(c, 10s);
	REQUIRE(r.data);
	CHECK(r.bytes == read_all(peer.dir / "two"));
	CHECK(peer.proc->wait(10s) == 0);
	// No new connections once stopping.
	Client late;
	CHECK_FALSE(late.connect(peer.port));
}

TEST_CASE("peerd bad command lines: one line on stderr, non-zero exit", "[peerd][args]")
{
	TempDir tmp;
	fs::create_directories(tmp / "3");
	auto expect_error = [](const RunResult& r, const std::string& says) {
		INFO("stderr: " << r.err);
		CHECK(r.status != 0);
		CHECK(r.err.rfind("peerd: ", 0) == 0);
		CHECK(r.err.find(says) != std::string::npos);
		CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
	};
	expect_error(run({bin("peerd"), "-d", (tmp / "missing/4").string()}), "No such file");
	expect_error(run({bin("peerd"), "-d", tmp.path().string()}), "not a peer ID");
	expect_error(run({bin("peerd")}), "-d DIR");
	expect_error(run({bin("peerd"), "-d", (tmp / "3").string(), "--rate-limit", "lots"}), "bad rate");

	// A port already taken.
	int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
	int zero = 0;
	::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
	REQUIRE(::listen(fd, 1) == 0);
	socklen_t len = sizeof sa;
	::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
	std::string taken = std::to_string(ntohs(sa.sin6_port));
	expect_error(run({bin("peerd"), "-d", (tmp / "3").string(), "-p", taken, "-i", no_index()}), "cannot listen");
	::close(fd);

	auto help = run({bin("peerd"), "-h"});
	CHECK(help.status == 0);
	CHECK(help.out.find("usage: peerd") != std::string::npos);
	CHECK(run({bin("peerd"), "-V"}).status == 0);
}

TEST_CASE("peerd refuses connections past its limit with Busy, and says so", "[peerd][serve][limits]")
{
	Peer peer;
	write_text(peer.dir / "f", "f");
	peer.start(no_index());
	REQUIRE(peer.ready());
	const std::size_t limit = 256; // ChunkServerLimits::max_connections
	std::vector<std::unique_ptr<Client>> clients;
	// One at a time, each served before the next connects, so that the
	// probe connection of start() is surely closed and gone by the end.
	for (std::size_t i = 0; i < limit; i++) {
		clients.push_back(std::make_unique<Client>());
		auto& c = clients.back();
		REQUIRE(c->connect(peer.port));
		REQUIRE(c->send(p2p::ManifestRequest{"f", 0}));
		auto m = c->recv();
		INFO("client " << i << " reply: " << (m ? p2p::msg_type_name(p2p::type_of(*m)) : "none"));
		REQUIRE(m);
		REQUIRE(std::holds_alternative<p2p::Manifest>(*m));
	}
	Client extra;
	REQUIRE(extra.connect(peer.port));
	auto reply = extra.recv();
	REQUIRE(reply);
	REQUIRE(std::holds_alternative<p2p::Error>(*reply));
	CHECK(std::get<p2p::Error>(*reply).code == p2p::ErrorCode::Busy);
	CHECK(extra.closed_by_peer());
	CHECK(peer.log().find("connection limit (256) reached") != std::string::npos);
	// Room again once one leaves.
	clients.pop_back();
	CHECK(eventually([&] {
		Client again;
		return again.connect(peer.port) && manifest(again, "f").has_value();
	}));
	clients.clear();
	auto status = peer.stop();
	INFO("log tail: " << peer.log().substr(peer.log().size() > 3000 ? peer.log().size() - 3000 : 0));
	REQUIRE(status == 0);
	CHECK(peer.log().find("connections_refused=") != std::string::npos);
	CHECK(peer.log().find("connections_refused=0 ") == std::string::npos);
}

TEST_CASE("peerd answers STATS with its counters, refusals included", "[peerd][serve][stats]")
{
	Peer peer;
	write_file(peer.dir / "f", 1000, 3);
	peer.start(no_index());
	REQUIRE(peer.ready());
	Client bad;
	REQUIRE(bad.connect(peer.port));
	std::vector<std::byte> garbage(16, std::byte{'G'});
	REQUIRE(bad.send_bytes(garbage.data(), garbage.size()));
	REQUIRE(bad.closed_by_peer());

	Client c;
	REQUIRE(c.connect(peer.port));
	REQUIRE(manifest(c, "f"));
	auto stats = ask<p2p::StatsReply>(c, p2p::Stats{});
	REQUIRE(stats);
	std::map<std::string, std::uint64_t> m(stats->counters.begin(), stats->counters.end());
	CHECK(m["manifest_requests"] == 1);
	CHECK(m["bad_frames"] == 1);
	CHECK(m.count("bad_macs") == 1);
	CHECK(m.count("files_busy") == 1);
	// What the peer speaks, for clients to learn before anything optional.
	REQUIRE(m.count("features") == 1);
	CHECK(m["features"] == (p2p::kFeatureChunkMaps | p2p::kFeatureSpareRequests));
	// A peer's map is always whole, and another version is refused.
	auto map = ask<p2p::HaveMap>(c, p2p::HaveRequest{"f", 1000, file_content_hash(peer.dir / "f")});
	REQUIRE(map);
	CHECK(map->have == std::vector<bool>{true});
	auto other = ask<p2p::Error>(c, p2p::HaveRequest{"f", 999, file_content_hash(peer.dir / "f")});
	REQUIRE(other);
	CHECK(other->code == p2p::ErrorCode::Changed);
}

// The codec hands a CHUNK_REQUEST longer than 16 MiB to the server, which
// refuses that request alone (p2p-protocol(7)).
TEST_CASE("peerd refuses a chunk request over 16 MiB alone: error 11, ref = its id, connection kept",
          "[peerd][serve][bad-range]")
{
	p2p::ChunkRequest too_long{41, "big", {}, 0, p2p::kMaxChunkLength + 1};
	REQUIRE(p2p::decode(p2p::encode(too_long)).status == p2p::DecodeStatus::Ok);
	Peer peer;
	write_file(peer.dir / "big", 20u << 20, 9);
	peer.start(no_index());
	REQUIRE(peer.ready());
	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "big");
	REQUIRE(m);
	too_long.content_hash = m->content_hash;
	REQUIRE(c.send(too_long));
	REQUIRE(c.send(p2p::ChunkRequest{42, "big", m->content_hash, 5, 100}));
	auto refused = read_chunk_reply(c);
	REQUIRE(refused.error);
	CHECK(refused.error->code == p2p::ErrorCode::BadRange);
	CHECK(refused.error->ref == 41);
	auto next = read_chunk_reply(c);
	REQUIRE(next.data);
	CHECK(next.data->id == 42);
	CHECK(next.bytes == file_bytes(peer.dir / "big", 5, 100));
	REQUIRE(peer.stop() == 0);
	CHECK(logged_counter(peer.log(), "errors_bad_range") == 1);
	CHECK(logged_counter(peer.log(), "errors_protocol") == 0);
}

TEST_CASE("peerd --metrics: GET /metrics in the Prometheus text format", "[peerd][serve][metrics]")
{
	std::uint16_t mport = free_port();
	Peer peer;
	write_file(peer.dir / "m.bin", 3u << 20, 4);
	write_file(peer.dir / "n.bin", 10, 5);
	peer.start(no_index(), {"--metrics", std::to_string(mport)});
	REQUIRE(peer.ready());
	REQUIRE(wait_for_port(mport));
	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "m.bin");
	REQUIRE(m);
	REQUIRE(c.send(p2p::ChunkRequest{1, "m.bin", m->content_hash, 0, 1000}));
	REQUIRE(read_chunk_reply(c).bytes.size() == 1000);

	auto page = scrape_metrics(mport);
	INFO(page);
	CHECK(page.find("HTTP/1.0 200 OK") == 0);
	CHECK(page.find("# TYPE p2p_peer_files_shared gauge\np2p_peer_files_shared 2\n") != std::string::npos);
	CHECK(page.find("# TYPE p2p_peer_bytes_sent_total counter\np2p_peer_bytes_sent_total 1000\n") != std::string::npos);
	CHECK(page.find("# TYPE p2p_peer_chunks_served_total counter\np2p_peer_chunks_served_total 1\n") !=
	      std::string::npos);
	CHECK(page.find("p2p_peer_manifest_requests_total 1\n") != std::string::npos);
	// Each family once: Prometheus refuses a page that has one twice.
	std::map<std::string, int> families;
	std::istringstream lines(page);
	for (std::string line; std::getline(lines, line);)
		if (line.rfind("# TYPE ", 0) == 0)
			families[line.substr(7, line.find(' ', 7) - 7)]++;
	CHECK(families.size() > 20);
	for (auto& [name, n] : families) {
		INFO(name);
		CHECK(n == 1);
	}
	// Bad HTTP closes that connection only.
	http(mport, "\x01\x02 nonsense\r\n\r\n");
	CHECK(scrape_metrics(mport).find("p2p_peer_chunk_requests_total 1\n") != std::string::npos);
	CHECK(ask<p2p::Pong>(c, p2p::Ping{3}));
}

// A seed shared by several downloaders sends each chunk about once: a spare
// request for a chunk another connection was just sent is answered
// "taken" (p2p-protocol(7)), and only that request.
TEST_CASE("peerd answers a spare request for a chunk just sent elsewhere with error 19, and only that",
          "[peerd][serve][spare]")
{
	Peer peer;
	write_file(peer.dir / "f", 5u << 20, 4);
	peer.start(no_index());
	REQUIRE(peer.ready());
	Client a, b;
	REQUIRE(a.connect(peer.port));
	REQUIRE(b.connect(peer.port));
	auto m = manifest(a, "f");
	REQUIRE(m);
	auto spare = [&](std::uint32_t id, std::uint32_t chunk) {
		return p2p::ChunkRequestSpare{{id, "f", m->content_hash, std::uint64_t{chunk} * p2p::kChunkSize,
		                               p2p::kChunkSize}};
	};
	REQUIRE(a.send(spare(1, 0)));
	auto first = read_chunk_reply(a);
	REQUIRE(first.data);
	CHECK(first.bytes == file_bytes(peer.dir / "f", 0, p2p::kChunkSize));

	REQUIRE(b.send(spare(7, 0)));   // sent to a just now
	REQUIRE(b.send(spare(8, 1)));   // sent to nobody
	REQUIRE(b.send(p2p::ChunkRequest{9, "f", m->content_hash, 0, p2p::kChunkSize})); // plain: always served
	auto taken = read_chunk_reply(b);
	REQUIRE(taken.error);
	CHECK(taken.error->code == p2p::ErrorCode::Taken);
	CHECK(taken.error->ref == 7);
	auto other = read_chunk_reply(b);
	REQUIRE(other.data);
	CHECK(other.data->id == 8);
	CHECK(other.bytes == file_bytes(peer.dir / "f", p2p::kChunkSize, p2p::kChunkSize));
	auto plain = read_chunk_reply(b);
	REQUIRE(plain.data);
	CHECK(plain.bytes == first.bytes);

	// Asked again on a connection it went to, it is sent again.
	REQUIRE(b.send(spare(10, 1)));
	auto again = read_chunk_reply(b);
	REQUIRE(again.data);
	CHECK(again.data->id == 10);
	REQUIRE(peer.stop() == 0);
	CHECK(logged_counter(peer.log(), "chunks_taken") == 1);
	CHECK(logged_counter(peer.log(), "errors_protocol") == 0);
}
