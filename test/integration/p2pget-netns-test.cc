// Faults across real separate hosts: indexd, three peers and p2pget each in
// a network namespace of its own, joined by a bridge. Skipped, with the
// reason, where namespaces cannot be made (not root, no iproute2).
#include "fixtures.h"
#include "netns-lab.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

using namespace fixtures;
using namespace std::chrono;

namespace {

constexpr const char* kFile = "shared/data.bin";

struct Cluster {
	NetLab lab;
	TempDir tmp;
	std::string index_addr, client_addr;
	std::vector<std::string> peer_addrs;
	std::unique_ptr<Process> index;
	std::vector<std::unique_ptr<Process>> peers;

	bool start(std::uint64_t file_size, const std::string& rate_limit = "")
	{
		if (!lab.available())
			return false;
		index_addr = lab.add_host("idx");
		for (int i = 1; i <= 3; i++)
			peer_addrs.push_back(lab.add_host("p" + std::to_string(i)));
		client_addr = lab.add_host("cli");
		if (!lab.available())
			return false;
		// A short TTL, which peerd learns and pings within.
		index = std::make_unique<Process>(lab.in("idx", {bin("indexd"), "-p", "60000", "-t", "3"}));
		for (int i = 1; i <= 3; i++) {
			auto dir = tmp / ("peers/" + std::to_string(i));
			write_file(dir / kFile, file_size, 77);
			std::vector<std::string> argv{bin("peerd"), "-d", dir.string(), "-i", index_addr + ":60000"};
			if (!rate_limit.empty())
				argv.insert(argv.end(), {"--rate-limit", rate_limit});
			peers.push_back(std::make_unique<Process>(lab.in("p" + std::to_string(i), argv)));
		}
		return eventually([&] { return holders() == 3; }, seconds(20));
	}

	// How many peers the index lists for kFile, asked from the client host.
	int holders()
	{
		RunResult r = run(lab.in("cli", {bin("p2pget"), "-i", index_addr + ":60000", "--lookup", kFile}), {},
		                  seconds(10));
		if (r.status != 0)
			return 0;
		int lines = 0;
		for (char c : r.out)
			lines += c == '\n';
		return lines;
	}

	std::unique_ptr<Process> download(const fs::path& out_dir, const std::string& timeout = "2")
	{
		fs::create_directories(out_dir);
		return std::make_unique<Process>(lab.in(
			"cli", {bin("p2pget"), "-q", "-i", index_addr + ":60000", "-o", out_dir.string(), "-t", timeout, kFile}));
	}

	bool downloaded_ok(const fs::path& out_dir) { return same_contents(out_dir / kFile, tmp / ("peers/1/" + std::string(kFile))); }
};

bool skip_unless_started(Cluster& c, std::uint64_t size, const std::string& rate = "")
{
	if (c.start(size, rate))
		return false;
	if (!c.lab.available()) {
		fixtures::skip("no network namespaces here: " + c.lab.why_not());
		return true;
	}
	FAIL("cluster did not come up: index log:\n" << c.index->stderr_text());
	return true;
}

} // namespace

TEST_CASE("a download across separate hosts", "[netns]")
{
	Cluster c;
	if (skip_unless_started(c, 20u << 20))
		return;
	auto t0 = steady_clock::now();
	auto get = c.download(c.tmp / "out");
	REQUIRE(get->wait(seconds(60)) == 0);
	std::cout << "netns: 20 MiB across 3 hosts in "
	          << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms\n";
	CHECK(c.downloaded_ok(c.tmp / "out"));
}

TEST_CASE("a peer's link cut mid-download: the others finish it", "[netns]")
{
	Cluster c;
	// Throttled so the cut lands mid-transfer: 48 MiB at 4 MiB/s per peer.
	if (skip_unless_started(c, 48u << 20, "4M"))
		return;
	auto t0 = steady_clock::now();
	auto get = c.download(c.tmp / "out");
	std::this_thread::sleep_for(milliseconds(1500));
	REQUIRE(get->running());
	REQUIRE(c.lab.set_link("p1", false));
	REQUIRE(get->wait(seconds(90)) == 0);
	std::cout << "netns: download with p1's link cut after 1.5 s finished in "
	          << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms\n";
	CHECK(c.downloaded_ok(c.tmp / "out"));
}

TEST_CASE("the index's link cut and restored: peers register again", "[netns]")
{
	Cluster c;
	if (skip_unless_started(c, 1u << 20))
		return;
	REQUIRE(c.lab.set_link("idx", false));
	// Longer than the index's TTL (3 s), so it drops every peer.
	std::this_thread::sleep_for(seconds(5));
	REQUIRE(c.lab.set_link("idx", true));
	auto t0 = steady_clock::now();
	CHECK(eventually([&] { return c.holders() == 3; }, seconds(30)));
	std::cout << "netns: 3 peers back in the index "
	          << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms after the link came back\n";
	auto get = c.download(c.tmp / "out");
	REQUIRE(get->wait(seconds(60)) == 0);
	CHECK(c.downloaded_ok(c.tmp / "out"));
}

TEST_CASE("50 ms delay and 1% loss: the download still completes", "[netns]")
{
	Cluster c;
	// Two chunks: at 100 ms round trip and 1% loss a TCP stream moves a few
	// hundred KB/s, so a 2 MiB chunk takes seconds; the chunk timeout is
	// raised to match.
	if (skip_unless_started(c, 4u << 20))
		return;
	bool impaired = true;
	for (const char* host : {"idx", "p1", "p2", "p3", "cli"})
		impaired = impaired && c.lab.impair(host, 50, 1.0);
	if (!impaired) {
		fixtures::skip("this kernel has no sch_netem (tc qdisc netem unknown)");
		return;
	}
	auto t0 = steady_clock::now();
	auto get = c.download(c.tmp / "out", "40");
	REQUIRE(get->wait(seconds(120)) == 0);
	std::cout << "netns: 4 MiB over 50 ms / 1% loss in "
	          << duration_cast<milliseconds>(steady_clock::now() - t0).count() << " ms\n";
	CHECK(c.downloaded_ok(c.tmp / "out"));
}
