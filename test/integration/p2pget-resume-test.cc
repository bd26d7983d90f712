// p2pget's partial file: resuming after an interruption, reusing an older
// copy at the output path, many downloads in one run, and disk errors that
// must never leave a truncated final file.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sys/stat.h>

using namespace p2pget_test;
using fixtures::same_contents;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

std::size_t recorded_chunks(const std::filesystem::path& sidecar)
{
	auto text = fixtures::read_all(sidecar);
	return text.size() > 128 ? static_cast<std::size_t>(std::count(text.begin() + 128, text.end(), '1')) : 0;
}

} // namespace

TEST_CASE("p2pget: an interrupted download resumes from the verified chunks", "[p2pget][integration]")
{
	int sig = GENERATE(SIGINT, SIGKILL);
	Cluster c;
	const std::uint64_t size = 32 * MiB + 3;
	fixtures::write_file(c.peer_dir(0) / "r.bin", size, 5);
	std::filesystem::create_directories(c.peer_dir(1));
	std::filesystem::copy_file(c.peer_dir(0) / "r.bin", c.peer_dir(1) / "r.bin");
	c.start_peer({"--rate-limit", "4M"});
	c.start_peer({"--rate-limit", "4M"});
	REQUIRE(c.wait_listed("r.bin", 2));
	auto sidecar = c.out() / ".r.bin.p2state";
	{
		fixtures::Process first(c.get_argv({"--json", "r.bin"}));
		// Four: chunks come in random order, and one may be the 3-byte tail.
		REQUIRE(fixtures::eventually([&] { return recorded_chunks(sidecar) >= 4; }, std::chrono::seconds(20)));
		first.signal(sig);
		auto status = first.wait();
		REQUIRE(status);
		if (sig == SIGINT) {
			// Ctrl-C: exit 130, and it says where the partial file is kept.
			CHECK(*status == 130);
			INFO(first.stderr_text());
			CHECK(first.stderr_text().find("r.bin: interrupted; the partial file") != std::string::npos);
			CHECK(first.stderr_text().find(".r.bin.p2part is kept: run the same command again to resume") !=
			      std::string::npos);
			CHECK(first.stdout_text().find("\"status\":\"interrupted\"") != std::string::npos);
		}
	}
	CHECK_FALSE(std::filesystem::exists(c.out() / "r.bin"));
	CHECK(std::filesystem::exists(c.out() / ".r.bin.p2part"));
	auto r = c.get({"--json", "r.bin"});
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "r.bin", c.peer_dir(0) / "r.bin"));
	CHECK(json_number(r.out, "resumed") >= 3 * 2 * MiB);
	CHECK(json_number(r.out, "bytes") <= size - 3 * 2 * MiB + 8 * MiB); // + endgame copies
	CHECK_FALSE(std::filesystem::exists(sidecar));
	CHECK_FALSE(std::filesystem::exists(c.out() / ".r.bin.p2part"));
}

TEST_CASE("p2pget: a corrupted partial file is re-fetched where it is wrong", "[p2pget][integration]")
{
	Cluster c;
	const std::uint64_t size = 10 * MiB;
	fixtures::write_file(c.peer_dir(0) / "c.bin", size, 9);
	c.start_peer();
	REQUIRE(c.wait_listed("c.bin", 1));
	REQUIRE(c.get({"c.bin"}).status == 0);
	// Fake an interrupted run whose sidecar claims every chunk, with one
	// chunk's bytes damaged on disk: the sidecar is only a hint.
	std::filesystem::rename(c.out() / "c.bin", c.out() / ".c.bin.p2part");
	{
		std::fstream f(c.out() / ".c.bin.p2part", std::ios::in | std::ios::out | std::ios::binary);
		f.seekp(static_cast<std::streamoff>(3 * MiB));
		f.put('\x42');
		f.put('\x43');
	}
	auto list = c.get({"--lookup", "c.bin", "--json"});
	auto hpos = list.out.find("\"hash\":\"");
	REQUIRE(hpos != std::string::npos);
	std::string hex = list.out.substr(hpos + 8, 64);
	std::string header = "p2pget-partial 1 " + std::to_string(size) + " 2097152 " + hex;
	header.resize(127, ' ');
	fixtures::write_text(c.out() / ".c.bin.p2state", header + "\n" + std::string(5, '1'));
	auto r = c.get({"--json", "c.bin"});
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "c.bin", c.peer_dir(0) / "c.bin"));
	CHECK(json_number(r.out, "resumed") == 8 * MiB);
	CHECK(json_number(r.out, "bytes") == 2 * MiB);
}

TEST_CASE("p2pget: an older copy at the output path gives every chunk that still matches", "[p2pget][integration]")
{
	Cluster c;
	const std::uint64_t size = 20 * MiB + 7; // chunks 0-9 of 2 MiB, chunk 10 of 7 bytes
	fixtures::write_file(c.peer_dir(0) / "o.bin", size, 21);
	c.start_peer();
	REQUIRE(c.wait_listed("o.bin", 1));
	auto old_copy = c.out() / "o.bin";

	SECTION("changed and missing chunks are fetched, the rest copied")
	{
		// Older and shorter: chunk 2 differs; 17 MiB covers chunks 0-7 only.
		std::filesystem::create_directories(c.out());
		std::filesystem::copy_file(c.peer_dir(0) / "o.bin", old_copy);
		std::filesystem::resize_file(old_copy, 17 * MiB);
		{
			std::fstream f(old_copy, std::ios::in | std::ios::out | std::ios::binary);
			f.seekp(static_cast<std::streamoff>(5 * MiB));
			f.put('\x5a');
		}
		auto r = c.get({"--json", "o.bin"});
		REQUIRE(r.status == 0);
		CHECK(same_contents(old_copy, c.peer_dir(0) / "o.bin"));
		CHECK(json_number(r.out, "resumed") == 7 * 2 * MiB);
		CHECK(json_number(r.out, "bytes") == 3 * 2 * MiB + 7);
	}
	SECTION("an identical copy: nothing is fetched")
	{
		std::filesystem::create_directories(c.out());
		std::filesystem::copy_file(c.peer_dir(0) / "o.bin", old_copy);
		auto r = c.get({"--json", "o.bin"});
		REQUIRE(r.status == 0);
		CHECK(same_contents(old_copy, c.peer_dir(0) / "o.bin"));
		CHECK(json_number(r.out, "resumed") == size);
		CHECK(json_number(r.out, "bytes") == 0);
	}
	SECTION("the summary says what was already on disk")
	{
		std::filesystem::create_directories(c.out());
		std::filesystem::copy_file(c.peer_dir(0) / "o.bin", old_copy);
		auto r = c.get({"o.bin"});
		REQUIRE(r.status == 0);
		INFO(r.err);
		CHECK(r.err.find("o.bin: 20.0 MiB in ") != std::string::npos);
		CHECK(r.err.find("nothing fetched, all already on disk, verified") != std::string::npos);
	}
	SECTION("a symlink there is replaced, never read or written through")
	{
		auto target = c.root() / "elsewhere.bin";
		std::filesystem::copy_file(c.peer_dir(0) / "o.bin", target);
		std::filesystem::create_directories(c.out());
		std::filesystem::create_symlink(target, old_copy);
		auto r = c.get({"--json", "o.bin"});
		REQUIRE(r.status == 0);
		CHECK_FALSE(std::filesystem::is_symlink(old_copy));
		CHECK(same_contents(old_copy, c.peer_dir(0) / "o.bin"));
		CHECK(json_number(r.out, "bytes") == size);
		CHECK(same_contents(target, c.peer_dir(0) / "o.bin"));
	}
	SECTION("a FIFO there neither hangs it nor is read")
	{
		std::filesystem::create_directories(c.out());
		REQUIRE(::mkfifo(old_copy.c_str(), 0644) == 0);
		auto r = c.get({"--json", "o.bin"});
		REQUIRE(r.status == 0);
		CHECK(same_contents(old_copy, c.peer_dir(0) / "o.bin"));
		CHECK(json_number(r.out, "bytes") == size);
	}
}

TEST_CASE("p2pget: twenty downloads at once in one run", "[p2pget][integration]")
{
	Cluster c;
	std::vector<std::string> names;
	for (int i = 0; i < 20; i++) {
		std::string name = "many/file-" + std::to_string(i) + ".bin";
		names.push_back(name);
		std::uint64_t size = static_cast<std::uint64_t>(i) * 300 * 1024 + 1;
		for (std::size_t p = 0; p < 3; p++)
			fixtures::write_file(c.peer_dir(p) / name, size, static_cast<std::uint32_t>(100 + i));
	}
	for (int p = 0; p < 3; p++)
		c.start_peer();
	for (auto& n : names)
		REQUIRE(c.wait_listed(n, 3));
	std::vector<std::string> args{"--json"};
	args.insert(args.end(), names.begin(), names.end());
	auto r = c.get(args);
	REQUIRE(r.status == 0);
	for (auto& n : names)
		CHECK(same_contents(c.out() / n, c.peer_dir(2) / n));
	CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 20);
}

TEST_CASE("p2pget: a disk error is a clear failure and never a truncated final file", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_file(c.peer_dir(0) / "huge.bin", 6 * MiB, 4);
	c.start_peer();
	REQUIRE(c.wait_listed("huge.bin", 1));
	// A 1 MiB file size limit stands in for a full disk: EFBIG, not a
	// SIGXFSZ death.
	auto argv = c.get_argv({"huge.bin"});
	argv.insert(argv.begin(), {"/usr/bin/prlimit", "--fsize=1048576"});
	auto r = fixtures::run(argv);
	CHECK(r.status == 1);
	CHECK(r.err.find("File too large") != std::string::npos);
	CHECK_FALSE(std::filesystem::exists(c.out() / "huge.bin"));

	// The same limit hit by chunk writes (not the up-front sizing): a
	// full-length partial file from an earlier run, only chunk 0 done.
	REQUIRE(c.get({"huge.bin"}).status == 0);
	std::filesystem::rename(c.out() / "huge.bin", c.out() / ".huge.bin.p2part");
	auto look = c.get({"--lookup", "huge.bin", "--json"});
	auto hpos = look.out.find("\"hash\":\"");
	REQUIRE(hpos != std::string::npos);
	std::string header = "p2pget-partial 1 " + std::to_string(6 * MiB) + " 2097152 " + look.out.substr(hpos + 8, 64);
	header.resize(127, ' ');
	fixtures::write_text(c.out() / ".huge.bin.p2state", header + "\n100");
	auto late = fixtures::run(argv);
	CHECK(late.status == 1);
	CHECK(late.err.find("File too large") != std::string::npos);
	// A disk that fills mid-download says where the partial file is kept.
	CHECK(late.err.find(".huge.bin.p2part is kept: run the same command again to resume") != std::string::npos);
	CHECK_FALSE(std::filesystem::exists(c.out() / "huge.bin"));
	// Without the limit the run resumes and completes.
	auto done = c.get({"--json", "huge.bin"});
	REQUIRE(done.status == 0);
	CHECK(fixtures::same_contents(c.out() / "huge.bin", c.peer_dir(0) / "huge.bin"));
	CHECK(json_number(done.out, "resumed") >= 2 * MiB);
}
