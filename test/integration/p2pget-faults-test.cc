// p2pget when peers misbehave: frozen, killed, throttled, lying, rewriting
// the file under it, or holding different versions of one name.
#include "p2pget-bad-peer.h"
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <functional>

using namespace p2pget_test;
using fixtures::same_contents;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

// The same file in every peer folder.
void share_everywhere(Cluster& c, std::size_t peers, const std::string& name, std::uint64_t size)
{
	fixtures::write_file(c.peer_dir(0) / name, size, 11);
	for (std::size_t p = 1; p < peers; p++) {
		std::filesystem::create_directories((c.peer_dir(p) / name).parent_path());
		std::filesystem::copy_file(c.peer_dir(0) / name, c.peer_dir(p) / name);
	}
}

std::size_t recorded_chunks(const std::filesystem::path& sidecar)
{
	auto text = fixtures::read_all(sidecar);
	return text.size() > 128 ? static_cast<std::size_t>(std::count(text.begin() + 128, text.end(), '1')) : 0;
}

// Shares `name` on three peers at 8 MiB/s each and runs p2pget -v on it,
// calling `disrupt` once two chunks are verified. The download must still
// come out whole; returns p2pget's stderr.
std::string download_through(Cluster& c, const std::string& name, std::uint64_t size,
                             const std::function<void()>& disrupt)
{
	share_everywhere(c, 3, name, size);
	for (int p = 0; p < 3; p++)
		c.start_peer({"--rate-limit", "8M"});
	REQUIRE(c.wait_listed(name, 3));
	fixtures::Process get(c.get_argv({"-v", "--json", name}));
	auto sidecar = c.out() / ("." + name + ".p2state");
	REQUIRE(fixtures::eventually([&] { return recorded_chunks(sidecar) >= 2; }, std::chrono::seconds(20)));
	disrupt();
	auto st = get.wait(std::chrono::seconds(60));
	INFO(get.stderr_text());
	REQUIRE(st == 0);
	CHECK(same_contents(c.out() / name, c.peer_dir(0) / name));
	return get.stderr_text();
}

} // namespace

TEST_CASE("p2pget: a frozen peer's chunks move to the others within about the timeout", "[p2pget][integration]")
{
	Cluster c;
	share_everywhere(c, 3, "f.bin", 40 * MiB);
	for (int p = 0; p < 3; p++)
		c.start_peer();
	REQUIRE(c.wait_listed("f.bin", 3));
	c.peer(0).signal(SIGSTOP);
	double t0 = now_seconds();
	auto r = c.get({"-t", "2", "--json", "f.bin"});
	double took = now_seconds() - t0;
	c.peer(0).signal(SIGCONT);
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "f.bin", c.peer_dir(1) / "f.bin"));
	// One timeout (2 s) for the frozen peer's whole pipeline, not one per
	// chunk (its share would be ~7 chunks = 14 s).
	CHECK(took < 10.0);
	// Whatever it was asked (manifest or chunks) went elsewhere.
	CHECK(r.out.find("\"peer\":\"127.0.0.1:" + std::to_string(c.peer_port(0)) + "\",\"bytes\":0}") !=
	      std::string::npos);
}

TEST_CASE("p2pget: every peer frozen -> exit 1 and no final file", "[p2pget][integration]")
{
	Cluster c;
	share_everywhere(c, 2, "g.bin", 8 * MiB);
	c.start_peer();
	c.start_peer();
	REQUIRE(c.wait_listed("g.bin", 2));
	c.peer(0).signal(SIGSTOP);
	c.peer(1).signal(SIGSTOP);
	double t0 = now_seconds();
	auto r = c.get({"-t", "1", "g.bin"});
	double took = now_seconds() - t0;
	c.peer(0).signal(SIGCONT);
	c.peer(1).signal(SIGCONT);
	CHECK(r.status == 1);
	CHECK(r.err.find("g.bin: download failed") != std::string::npos);
	CHECK_FALSE(std::filesystem::exists(c.out() / "g.bin"));
	CHECK(took < 10.0);
}

TEST_CASE("p2pget: a peer killed mid-download does not fail the download", "[p2pget][integration]")
{
	Cluster c;
	download_through(c, "k.bin", 48 * MiB, [&] { c.peer(1).signal(SIGKILL); });
}

TEST_CASE("p2pget: a peer serving wrong bytes is dropped and the chunk comes from another", "[p2pget][integration]")
{
	// The honest peers are throttled so that the liar, were it kept, would
	// be asked for most of the 49 chunks: the test then tells "dropped at
	// its first bad chunk" from "kept" by a wide margin either way.
	Cluster c;
	constexpr std::size_t chunks = 49;
	share_everywhere(c, 3, "w.bin", (chunks - 1) * 2 * MiB + 5);
	c.start_peer({"--rate-limit", "16M"});
	c.start_peer({"--rate-limit", "16M"});
	BadPeer bad(c.index_port(), c.peer_dir(2), {"w.bin"}, c.root() / "bad.log");
	REQUIRE(c.wait_listed("w.bin", 3));
	auto r = c.get({"--json", "w.bin"});
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "w.bin", c.peer_dir(0) / "w.bin"));
	CHECK(json_number(r.out, "bad_chunks") >= 1);
	CHECK(json_number(r.out, "retries") >= 1);
	CHECK(r.err.find("127.0.0.1:" + std::to_string(bad.port()) + " sent a chunk that does not match its hash") !=
	      std::string::npos);
	// Only what was pipelined while its first chunk was being verified
	// reached it; a kept liar would have served the bulk of the file.
	CHECK(bad.requests() >= 1);
	CHECK(bad.requests() < chunks / 2);
}

TEST_CASE("p2pget: a throttled peer does not hold back the end of the file", "[p2pget][integration]")
{
	Cluster c;
	share_everywhere(c, 3, "t.bin", 32 * MiB);
	c.start_peer();
	c.start_peer();
	c.start_peer({"--rate-limit", "512K"});
	REQUIRE(c.wait_listed("t.bin", 3));
	double t0 = now_seconds();
	auto r = c.get({"--json", "t.bin"});
	double took = now_seconds() - t0;
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "t.bin", c.peer_dir(0) / "t.bin"));
	// The slow peer is handed chunks before anyone knows it is slow; its
	// pipeline alone (several 2 MiB chunks at 512 KiB/s) would take 12 s or
	// more. The endgame copies those chunks to the fast peers instead.
	CHECK(took < 8.0);
	CHECK(json_number(r.out, "duplicates") >= 1);
}

TEST_CASE("p2pget: two versions under one name -> the one most peers hold", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_file(c.peer_dir(0) / "v.bin", 3 * MiB, 1);
	fixtures::write_file(c.peer_dir(1) / "v.bin", 3 * MiB, 2);
	fixtures::write_file(c.peer_dir(2) / "v.bin", 3 * MiB, 2);
	for (int p = 0; p < 3; p++)
		c.start_peer();
	REQUIRE(c.wait_listed("v.bin", 3));
	auto r = c.get({"--json", "v.bin"});
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "v.bin", c.peer_dir(1) / "v.bin"));
	CHECK(r.err.find("2 versions") != std::string::npos);
	CHECK(json_number(r.out, "versions") == 2);
	// The minority peer sent nothing.
	CHECK(r.out.find("127.0.0.1:" + std::to_string(c.peer_port(0))) == std::string::npos);
}

TEST_CASE("p2pget: a peer whose file is rewritten mid-download is dropped; the others finish", "[p2pget][integration]")
{
	Cluster c;
	// In place, as a careless writer would: peer 1 may send bytes of either
	// version, or say the file changed; neither may reach the output.
	auto err = download_through(c, "m.bin", 40 * MiB,
	                            [&] { fixtures::write_file(c.peer_dir(1) / "m.bin", 40 * MiB, 12); });
	CHECK_FALSE(same_contents(c.out() / "m.bin", c.peer_dir(1) / "m.bin"));
	// Dropped (-v logs why: its error, a bad chunk, a short read...).
	CHECK(err.find("m.bin: 127.0.0.1:" + std::to_string(c.peer_port(1)) + ": ") != std::string::npos);
}
