// p2pget against real indexd and peerd processes: byte-identical results
// for awkward sizes and names, --list, --lookup, --json and exit codes.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

using namespace p2pget_test;
using fixtures::same_contents;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

} // namespace

TEST_CASE("p2pget downloads byte-identical files of every awkward size and name", "[p2pget][integration]")
{
	Cluster c;
	const std::vector<std::pair<std::string, std::uint64_t>> files = {
		{"empty", 0},
		{"one", 1},
		{"chunk-minus-1", 2 * MiB - 1},
		{"chunk", 2 * MiB},
		{"chunk-plus-1", 2 * MiB + 1},
		{"grüße/日本語 ファイル.bin", 3 * MiB + 17},
		{"a/b/c/deep.txt", 1000},
	};
	for (std::size_t p = 0; p < 3; p++) {
		for (auto& [name, size] : files)
			fixtures::write_file(c.peer_dir(p) / name, size, 7);
		c.start_peer();
	}
	for (auto& [name, size] : files)
		REQUIRE(c.wait_listed(name, 3));
	std::vector<std::string> args{"--json"};
	for (auto& [name, size] : files)
		args.push_back(name);
	auto r = c.get(args);
	REQUIRE(r.status == 0);
	for (auto& [name, size] : files) {
		INFO(name);
		CHECK(same_contents(c.out() / name, c.peer_dir(0) / name));
		CHECK(std::filesystem::file_size(c.out() / name) == size);
		CHECK(r.out.find("{\"name\":\"" + name + "\",\"ok\":true") != std::string::npos);
	}
	// One JSON line per NAME, and nothing hidden left behind.
	CHECK(std::count(r.out.begin(), r.out.end(), '\n') == static_cast<long>(files.size()));
	for (auto& e : std::filesystem::recursive_directory_iterator(c.out()))
		CHECK(e.path().filename().string()[0] != '.');
	INFO("stderr: " << r.err);
	CHECK(r.err.empty()); // not a terminal: no progress display
}

TEST_CASE("p2pget fetches a large file from three peers at once", "[p2pget][integration]")
{
	Cluster c;
	const std::uint64_t size = 200 * MiB + 12345;
	fixtures::write_file(c.peer_dir(0) / "big.iso", size, 3);
	for (std::size_t p = 1; p < 3; p++) {
		std::filesystem::create_directories(c.peer_dir(p));
		std::filesystem::copy_file(c.peer_dir(0) / "big.iso", c.peer_dir(p) / "big.iso");
	}
	for (std::size_t p = 0; p < 3; p++)
		c.start_peer();
	REQUIRE(c.wait_listed("big.iso", 3, std::chrono::seconds(60)));
	auto r = c.get({"--json", "big.iso"}, std::chrono::seconds(120));
	REQUIRE(r.status == 0);
	CHECK(same_contents(c.out() / "big.iso", c.peer_dir(0) / "big.iso"));
	// Every peer contributed.
	for (std::size_t p = 0; p < 3; p++) {
		auto key = "\"peer\":\"127.0.0.1:" + std::to_string(c.peer_port(p)) + "\",\"bytes\":";
		auto pos = r.out.find(key);
		REQUIRE(pos != std::string::npos);
		CHECK(std::stoull(r.out.substr(pos + key.size())) > 10 * MiB);
	}
}

TEST_CASE("p2pget exit codes: refused names, missing names, unreachable index", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_text(c.peer_dir(0) / "here.txt", "here\n");
	c.start_peer();
	REQUIRE(c.wait_listed("here.txt", 1));

	for (std::string bad : {"/etc/passwd", "../escape", "a/../../b", ".hidden", "sub/.git/config"}) {
		auto r = c.get({bad});
		CHECK(r.status == 2);
		CHECK(r.err.find("p2pget: refusing name") != std::string::npos);
	}
	CHECK(c.get({}).status == 2);
	CHECK(c.get({"-t", "soon", "x"}).status == 2);

	auto missing = c.get({"--json", "here.txt", "nowhere.txt"});
	CHECK(missing.status == 3);
	CHECK(missing.err.find("nowhere.txt: not in the index") != std::string::npos);
	CHECK(missing.out.find("\"status\":\"missing\"") != std::string::npos);
	CHECK(same_contents(c.out() / "here.txt", c.peer_dir(0) / "here.txt")); // the rest still done

	auto port = fixtures::free_port();
	auto down = fixtures::run({fixtures::bin("p2pget"), "-i", "127.0.0.1:" + std::to_string(port), "-t", "2",
	                           "-o", c.out().string(), "x"});
	CHECK(down.status == 4);
	CHECK(down.err.find("cannot reach the index") != std::string::npos);
	// P2P_INDEX is used when -i is absent.
	auto env = fixtures::run({fixtures::bin("p2pget"), "-o", c.out().string(), "--lookup", "here.txt"},
	                         {"P2P_INDEX=" + c.index_addr()});
	CHECK(env.status == 0);
	auto env_down = fixtures::run({fixtures::bin("p2pget"), "--list"},
	                              {"P2P_INDEX=127.0.0.1:" + std::to_string(port)});
	CHECK(env_down.status == 4);
	// A peer's port given as the index is named for what it is.
	auto at_peer = fixtures::run({fixtures::bin("p2pget"), "-i", "127.0.0.1:" + std::to_string(c.peer_port(0)),
	                              "-o", c.out().string(), "x"});
	CHECK(at_peer.status == 4);
	CHECK(at_peer.err.find("is a peer, not an index") != std::string::npos);
}

TEST_CASE("p2pget --list and --lookup, as text and JSON", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_file(c.peer_dir(0) / "x.bin", 5000, 1);
	fixtures::write_file(c.peer_dir(1) / "x.bin", 5000, 1);
	fixtures::write_text(c.peer_dir(1) / "dir/ö.txt", "ö\n");
	auto empty = c.get({"--list"});
	CHECK(empty.status == 0);
	CHECK(empty.out.empty());
	CHECK(empty.err.find("the index lists no files") != std::string::npos);
	c.start_peer();
	c.start_peer();
	REQUIRE(c.wait_listed("x.bin", 2));
	REQUIRE(c.wait_listed("dir/ö.txt", 1));

	auto list = c.get({"--list"});
	REQUIRE(list.status == 0);
	CHECK(list.out.find("x.bin") != std::string::npos);
	CHECK(list.out.find("dir/ö.txt") != std::string::npos);
	auto json = c.get({"--list", "--json"});
	REQUIRE(json.status == 0);
	CHECK(json.out.find("{\"name\":\"dir/ö.txt\",\"size\":3,") != std::string::npos);
	CHECK(json.out.find("{\"name\":\"x.bin\",\"size\":5000,") != std::string::npos);
	CHECK(json.out.find("\"peers\":2}") != std::string::npos);

	auto look = c.get({"--lookup", "x.bin", "--json"});
	REQUIRE(look.status == 0);
	CHECK(look.out.find("\"port\":" + std::to_string(c.peer_port(0))) != std::string::npos);
	CHECK(look.out.find("\"port\":" + std::to_string(c.peer_port(1))) != std::string::npos);
	auto text = c.get({"--lookup", "x.bin"});
	CHECK(text.status == 0);
	CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 2);
	auto none = c.get({"--lookup", "nope"});
	CHECK(none.status == 3);
}
