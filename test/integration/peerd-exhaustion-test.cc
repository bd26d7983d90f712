// Resource exhaustion: with few descriptors (prlimit) and a thousand idle
// connections, peerd keeps serving the client it has, turns newcomers
// away with Busy, and lets new clients in at once when the load goes; a
// client trickling a byte a second is cut off.
#include "peerd-harness.h"

#include <csignal>

using namespace peerd_test;

namespace {

bool fetch_chunk(Client& c, const p2p::Hash& hash, std::uint32_t id, const std::string& expected)
{
	if (!c.send(p2p::ChunkRequest{id, "data.bin", hash, 0, static_cast<std::uint32_t>(expected.size())}))
		return false;
	auto r = read_chunk_reply(c);
	return r.data && r.data->id == id && r.bytes == expected;
}

} // namespace

TEST_CASE("peerd under descriptor exhaustion keeps serving and recovers", "[peerd][exhaustion]")
{
	raise_fd_limit(); // the test itself holds a thousand sockets
	Peer peer;
	write_file(peer.dir / "data.bin", p2p::kChunkSize, 3);
	peer.start("127.0.0.1:" + std::to_string(free_port()), {}, {"/usr/bin/prlimit", "--nofile=64"});
	REQUIRE(peer.ready());
	auto hash = file_content_hash(peer.dir / "data.bin");
	std::string expected = file_bytes(peer.dir / "data.bin", 0, p2p::kChunkSize);

	Client before;
	REQUIRE(before.connect(peer.port));
	REQUIRE(fetch_chunk(before, hash, 1, expected));

	std::vector<std::unique_ptr<Client>> idle;
	for (int i = 0; i < 1000; i++) {
		auto c = std::make_unique<Client>();
		if (c->connect(peer.port))
			idle.push_back(std::move(c));
	}
	INFO("idle connections opened: " << idle.size());
	// The client connected before the flood still gets chunks: its file
	// opens find a descriptor.
	for (std::uint32_t id = 2; id < 5; id++)
		CHECK(fetch_chunk(before, hash, id, expected));
	// A newcomer past the budget is told Busy.
	Client late;
	REQUIRE(late.connect(peer.port));
	auto r = late.recv();
	REQUIRE(r);
	REQUIRE(std::holds_alternative<p2p::Error>(*r));
	CHECK(std::get<p2p::Error>(*r).code == p2p::ErrorCode::Busy);
	late.close();

	auto refused = peer_counter(peer, "connections_refused");
	REQUIRE(refused);
	CHECK(*refused >= 900);
	CHECK(peer_counter(peer, "files_busy") == 0);

	idle.clear();
	auto gone = std::chrono::steady_clock::now();
	CHECK(eventually(
		[&] {
			Client again;
			return again.connect(peer.port) && fetch_chunk(again, hash, 9, expected);
		},
		10s));
	auto took = std::chrono::steady_clock::now() - gone;
	INFO("a new client was served after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
	                                      << " ms");
	CHECK(took < 5s);
	CHECK(fetch_chunk(before, hash, 10, expected));
	CHECK(peer.log().find("Too many open files") == std::string::npos);
	CHECK(peer.stop() == 0);
}

TEST_CASE("peerd cuts off a client that trickles a frame a byte a second", "[peerd][exhaustion][slow]")
{
	Peer peer;
	write_text(peer.dir / "f", "f");
	peer.start("127.0.0.1:" + std::to_string(free_port()));
	REQUIRE(peer.ready());
	Client slow;
	REQUIRE(slow.connect(peer.port));
	auto frame = p2p::encode(p2p::Message{p2p::ManifestRequest{std::string(100, 'x'), 0}});
	auto started = std::chrono::steady_clock::now();
	bool cut = false;
	std::size_t sent = 0;
	for (; sent < frame.size() && !cut; sent++) {
		if (!slow.send_bytes(&frame[sent], 1) || slow.closed_by_peer(1s))
			cut = true;
		// Others are served meanwhile.
		if (sent == 3) {
			Client other;
			REQUIRE(other.connect(peer.port));
			CHECK(manifest(other, "f"));
		}
	}
	auto took = std::chrono::steady_clock::now() - started;
	INFO("bytes sent: " << sent << ", seconds: " << std::chrono::duration_cast<std::chrono::seconds>(took).count());
	REQUIRE(cut);
	CHECK(sent < frame.size());
	CHECK(took < 20s); // the frame deadline is 10 s; the idle limit (60 s) never fires
	CHECK(peer_counter(peer, "frame_timeouts") == 1);
	CHECK(peer.stop() == 0);
}
