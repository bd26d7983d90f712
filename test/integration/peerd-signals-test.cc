// peerd and its stop signals while transfers are in flight: a second
// SIGINT or SIGTERM exits at once and cleanly (man/peerd.8, SIGNALS), with
// and without the upload rate limit.
#include "peerd-harness.h"

#include <csignal>

using namespace peerd_test;

namespace {

std::string no_index() { return "127.0.0.1:" + std::to_string(free_port()); }

} // namespace

TEST_CASE("peerd: a second signal during a transfer exits at once with 0", "[peerd][serve][signals]")
{
	struct Case {
		bool rate_limit;
		int sig;
	};
	// The first is issue 10 bug 1: an abort in the rate-limit group.
	auto [rate_limit, sig] = GENERATE(Case{true, SIGINT}, Case{true, SIGTERM}, Case{false, SIGINT});
	std::vector<std::string> flags;
	if (rate_limit)
		flags = {"--rate-limit", "1M"};
	INFO("rate limit: " << rate_limit << ", signal " << sig);
	Peer peer;
	// Large enough that no transfer ends within the 5 s grace period at 1 MiB/s.
	write_file(peer.dir / "big", 16u << 20, 7);
	peer.start(no_index(), flags);
	REQUIRE(peer.ready());
	Client c;
	REQUIRE(c.connect(peer.port));
	auto m = manifest(c, "big");
	REQUIRE(m);
	// Requests never read: without a rate limit they stay queued behind a
	// full socket, so the transfer is in flight either way.
	for (std::uint32_t i = 0; i < 8; i++)
		REQUIRE(c.send(p2p::ChunkRequest{i + 1, "big", m->content_hash, std::uint64_t{i} * p2p::kChunkSize,
		                                 p2p::kChunkSize}));
	auto first = c.recv();
	REQUIRE(first);
	REQUIRE(std::holds_alternative<p2p::ChunkData>(*first));

	peer.proc->signal(sig);
	REQUIRE(eventually([&] { return peer.log().find("stopping") != std::string::npos; }, 5s));
	std::this_thread::sleep_for(200ms);
	peer.proc->signal(sig);
	// "At once": well inside the 5 s grace period the first signal allows.
	auto status = peer.proc->wait(2500ms);
	INFO("log tail: " << peer.log().substr(peer.log().size() > 2000 ? peer.log().size() - 2000 : 0));
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK(peer.log().find("second signal: exiting now") != std::string::npos);
	CHECK(peer.log().find("Assertion") == std::string::npos);
}
