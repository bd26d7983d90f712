// Swarming end to end: several real p2pget started together against one
// rate-limited seed peerd serve each other what they have verified, so the
// seed sends each chunk about once; a partial holder that dies, stalls or
// lies is handled like any peer. Bytes and outcomes only, never timings.
#include "p2pget-bad-peer.h"
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

using namespace p2pget_test;
using fixtures::Process;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

struct Swarm {
	Cluster& c;
	std::string name;
	std::vector<fs::path> dirs;
	std::vector<std::unique_ptr<Process>> procs;

	fs::path dir(std::size_t i) const { return c.root() / ("d" + std::to_string(i)); }

	// Starts downloader i into its own directory.
	void start(std::size_t i, std::vector<std::string> extra = {})
	{
		fs::create_directories(dir(i));
		std::vector<std::string> argv{fixtures::bin("p2pget"), "-i", c.index_addr(), "-o", dir(i).string(), "--json"};
		argv.insert(argv.end(), extra.begin(), extra.end());
		argv.push_back(name);
		procs.push_back(std::make_unique<Process>(argv));
	}
};

// Starts the seed: a peerd sharing `name`, `size` bytes of `pattern`,
// uploading at `rate`, and waits for the index to list it.
void seed(Cluster& c, const std::string& name, std::uint64_t size, std::uint32_t pattern, const std::string& rate)
{
	fixtures::write_file(c.peer_dir(0) / name, size, pattern);
	c.start_peer({"--rate-limit", rate});
	REQUIRE(c.wait_listed(name, 1));
}

// Bytes downloader output `json` says came from 127.0.0.1:`port`.
std::uint64_t bytes_from(const std::string& json, std::uint16_t port)
{
	std::string key = "{\"peer\":\"127.0.0.1:" + std::to_string(port) + "\",\"bytes\":";
	auto pos = json.find(key);
	return pos == std::string::npos ? 0 : std::stoull(json.substr(pos + key.size()));
}

// Whether `--lookup` lists a partial holder of `name` now.
bool partial_listed(Cluster& c, const std::string& name)
{
	auto r = fixtures::run({fixtures::bin("p2pget"), "-i", c.index_addr(), "--lookup", name, "--json"});
	return r.status == 0 && r.out.find("\"complete\":false") != std::string::npos;
}

// Chunks the sidecar of a partial download records as verified.
std::vector<std::size_t> recorded(const fs::path& sidecar)
{
	auto text = fixtures::read_all(sidecar);
	std::vector<std::size_t> out;
	for (std::size_t i = 128; i < text.size(); i++)
		if (text[i] == '1')
			out.push_back(i - 128);
	return out;
}

} // namespace

TEST_CASE("swarm: six downloaders started together share the seed's chunks", "[p2pget][integration][swarm]")
{
	Cluster c;
	const std::uint64_t size = 48 * MiB + 5;
	seed(c, "big.bin", size, 3, "8M");

	Swarm s{c, "big.bin", {}, {}};
	for (std::size_t i = 0; i < 6; i++)
		s.start(i);
	// Other holders are listed while the swarm runs.
	bool saw_partial = fixtures::eventually([&] { return partial_listed(c, "big.bin"); }, std::chrono::seconds(30));

	std::uint64_t from_seed = 0;
	for (std::size_t i = 0; i < s.procs.size(); i++) {
		auto status = s.procs[i]->wait(std::chrono::seconds(120));
		std::string out = s.procs[i]->stdout_text();
		INFO("downloader " << i << ": " << out << s.procs[i]->stderr_text());
		REQUIRE(status == 0);
		CHECK(fixtures::same_contents(s.dir(i) / "big.bin", c.peer_dir(0) / "big.bin"));
		from_seed += bytes_from(out, c.peer_port(0));
	}
	CHECK(saw_partial);
	// Today's way the seed would send 6 x size; swarming, about 1 x.
	INFO("from the seed " << from_seed << " bytes for a file of " << size);
	CHECK(from_seed <= size * 3 / 2);
}

TEST_CASE("swarm: a partial holder killed or frozen mid-run does not stop the others",
          "[p2pget][integration][swarm]")
{
	int sig = GENERATE(SIGKILL, SIGSTOP);
	Cluster c;
	const std::uint64_t size = 24 * MiB;
	seed(c, "f.bin", size, 4, "6M");

	Swarm s{c, "f.bin", {}, {}};
	for (std::size_t i = 0; i < 4; i++)
		s.start(i, {"-t", "3", "-v", "--seed-time", "0"}); // -v: what it did, if it fails
	// Once downloader 0 serves something, it goes away without a word.
	REQUIRE(fixtures::eventually([&] { return recorded(s.dir(0) / ".f.bin.p2state").size() >= 2; },
	                             std::chrono::seconds(30)));
	REQUIRE(fixtures::eventually([&] { return partial_listed(c, "f.bin"); }, std::chrono::seconds(10)));
	s.procs[0]->signal(sig);
	for (std::size_t i = 1; i < s.procs.size(); i++) {
		auto status = s.procs[i]->wait(std::chrono::seconds(120));
		INFO("downloader " << i << ": " << s.procs[i]->stdout_text() << s.procs[i]->stderr_text());
		REQUIRE(status == 0);
		CHECK(fixtures::same_contents(s.dir(i) / "f.bin", c.peer_dir(0) / "f.bin"));
	}
	if (sig == SIGSTOP)
		s.procs[0]->signal(SIGKILL);
}

TEST_CASE("swarm: a downloader that claims every chunk and then goes silent holds the seed back only "
          "for the claims' life",
          "[p2pget][integration][swarm]")
{
	Cluster c;
	const std::uint64_t size = 8 * MiB + 3;
	fixtures::write_file(c.root() / "claimer" / "s.bin", size, 7);
	seed(c, "s.bin", size, 7, "2M");
	// Frozen right after it said FETCHING for all: no bytes, no HAVE, no
	// close, so nothing but the claims running out can wake us.
	BadPeer claimer(c.index_port(), c.root() / "claimer", {"s.bin"}, c.root() / "claimer.log", {}, BadPeerKind::Claimer);
	REQUIRE(partial_listed(c, "s.bin"));

	Swarm s{c, "s.bin", {}, {}};
	s.start(0, {"-t", "2", "-v", "--seed-time", "0"});
	auto status = s.procs[0]->wait(std::chrono::seconds(60));
	INFO(s.procs[0]->stdout_text() << s.procs[0]->stderr_text());
	REQUIRE(status == 0);
	CHECK(fixtures::same_contents(s.dir(0) / "s.bin", c.peer_dir(0) / "s.bin"));
	CHECK(bytes_from(s.procs[0]->stdout_text(), c.peer_port(0)) == size);
	CHECK(claimer.requests() == 0);
}

TEST_CASE("swarm: a partial holder serving a wrong chunk is dropped; the file is still exact",
          "[p2pget][integration][swarm]")
{
	Cluster c;
	const std::uint64_t size = 16 * MiB;
	seed(c, "l.bin", size, 5, "2M");

	Swarm s{c, "l.bin", {}, {}};
	s.start(0); // the liar-to-be
	auto sidecar = s.dir(0) / ".l.bin.p2state";
	REQUIRE(fixtures::eventually([&] { return !recorded(sidecar).empty(); }, std::chrono::seconds(30)));
	// Its verified chunk is rewritten on disk: it now serves wrong bytes.
	std::size_t chunk = recorded(sidecar).front();
	{
		std::fstream f(s.dir(0) / ".l.bin.p2part", std::ios::in | std::ios::out | std::ios::binary);
		f.seekp(static_cast<std::streamoff>(chunk * 2 * MiB + 1000));
		f.write("garbage", 7);
	}
	s.start(1);
	auto status = s.procs[1]->wait(std::chrono::seconds(120));
	std::string out = s.procs[1]->stdout_text();
	INFO(out << s.procs[1]->stderr_text());
	REQUIRE(status == 0);
	CHECK(fixtures::same_contents(s.dir(1) / "l.bin", c.peer_dir(0) / "l.bin"));
	CHECK(json_number(out, "bad_chunks") >= 1);
	CHECK(s.procs[1]->stderr_text().find("does not match its hash") != std::string::npos);
	s.procs[0]->signal(SIGKILL);
}

TEST_CASE("swarm: --no-serve downloads as before and never becomes a holder", "[p2pget][integration][swarm]")
{
	Cluster c;
	const std::uint64_t size = 12 * MiB;
	seed(c, "n.bin", size, 6, "4M");

	Swarm s{c, "n.bin", {}, {}};
	s.start(0, {"--no-serve"});
	s.start(1, {"--no-serve"});
	bool saw_partial = false;
	for (int i = 0; i < 10 && s.procs[1]->running(); i++) {
		saw_partial = saw_partial || partial_listed(c, "n.bin");
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	for (std::size_t i = 0; i < 2; i++) {
		auto status = s.procs[i]->wait(std::chrono::seconds(60));
		std::string out = s.procs[i]->stdout_text();
		INFO(out << s.procs[i]->stderr_text());
		REQUIRE(status == 0);
		CHECK(fixtures::same_contents(s.dir(i) / "n.bin", c.peer_dir(0) / "n.bin"));
		CHECK(bytes_from(out, c.peer_port(0)) == size); // everything from the seed
	}
	CHECK_FALSE(saw_partial);
}

TEST_CASE("swarm: an old-protocol seed (the page's Python peer) still seeds a swarm",
          "[p2pget][integration][swarm][interop]")
{
	Cluster c;
	const std::uint64_t size = 12 * MiB;
	auto seed_dir = c.root() / "pyseed";
	fixtures::write_file(seed_dir / "o.bin", size, 7);
	std::uint16_t port = fixtures::free_port();
	auto script = fs::absolute(fs::path(__FILE__).parent_path().parent_path() / "interop" / "p2p_peer.py");
	Process seed({"/usr/bin/env", "python3", script.string(), "-d", seed_dir.string(), "-i", c.index_addr(), "-p",
	              std::to_string(port)});
	REQUIRE(c.wait_listed("o.bin", 1));

	Swarm s{c, "o.bin", {}, {}};
	for (std::size_t i = 0; i < 3; i++)
		s.start(i);
	for (std::size_t i = 0; i < 3; i++) {
		auto status = s.procs[i]->wait(std::chrono::seconds(120));
		INFO(s.procs[i]->stdout_text() << s.procs[i]->stderr_text());
		REQUIRE(status == 0);
		CHECK(fixtures::same_contents(s.dir(i) / "o.bin", seed_dir / "o.bin"));
	}
	seed.signal(SIGTERM);
}
