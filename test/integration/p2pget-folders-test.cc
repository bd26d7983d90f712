// Folders: p2pget -r FOLDER and FOLDER/ fetch every file under it, all at
// once, into DIR/FOLDER/...; --list PREFIX lists only what is under it.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

using namespace p2pget_test;

namespace {

constexpr int kSmall = 300;

std::string small_name(int i)
{
	return "tree/d" + std::to_string(i % 7) + "/e" + std::to_string(i % 3) + "/f" + std::to_string(i) + ".txt";
}

// Every small file on one or two of the three peers, the large ones on all.
void make_tree(Cluster& c)
{
	for (int i = 0; i < kSmall; i++) {
		auto name = small_name(i);
		fixtures::write_file(c.peer_dir(i % 3) / name, 100 + i * 37, i);
		if (i % 2)
			fixtures::write_file(c.peer_dir((i + 1) % 3) / name, 100 + i * 37, i);
	}
	for (int p = 0; p < 3; p++) {
		fixtures::write_file(c.peer_dir(p) / "tree/big-1.bin", 9u << 20, 91);
		fixtures::write_file(c.peer_dir(p) / "tree/d3/big-2.bin", (5u << 20) + 11, 92);
		fixtures::write_text(c.peer_dir(p) / "tree-not-under.txt", "beside, not under\n");
	}
}

// The file `name` downloaded into out() is the peers' copy.
bool fetched(Cluster& c, const std::string& name, int holder)
{
	return fixtures::same_contents(c.out() / name, c.peer_dir(holder) / name);
}

} // namespace

TEST_CASE("p2pget -r: a tree of hundreds of files over three peers, identical", "[p2pget][integration][folders]")
{
	Cluster c;
	make_tree(c);
	for (int p = 0; p < 3; p++)
		c.start_peer();
	REQUIRE(c.wait_listed("tree/d3/big-2.bin", 3));
	REQUIRE(c.wait_listed(small_name(kSmall - 1), 2));
	REQUIRE(c.wait_listed(small_name(kSmall - 2), 1));

	auto listed = c.get({"--list", "tree/d3"});
	REQUIRE(listed.status == 0);
	CHECK(listed.out.find("tree/d3/big-2.bin") != std::string::npos);
	CHECK(listed.out.find("tree/d1/") == std::string::npos);
	CHECK(listed.out.find("tree-not-under") == std::string::npos);

	auto r = c.get({"-r", "tree", "--json"}, std::chrono::seconds(120));
	INFO(r.err);
	REQUIRE(r.status == 0);
	CHECK(std::count(r.out.begin(), r.out.end(), '\n') == kSmall + 2);
	for (int i = 0; i < kSmall; i++)
		CHECK(fetched(c, small_name(i), i % 3));
	CHECK(fetched(c, "tree/big-1.bin", 0));
	CHECK(fetched(c, "tree/d3/big-2.bin", 0));
	CHECK_FALSE(std::filesystem::exists(c.out() / "tree-not-under.txt"));

	// A trailing slash says folder too; only what is under it comes.
	std::filesystem::remove_all(c.out());
	auto sub = c.get({"tree/d3/"});
	REQUIRE(sub.status == 0);
	CHECK(fetched(c, "tree/d3/big-2.bin", 1));
	CHECK_FALSE(std::filesystem::exists(c.out() / "tree/d1"));

	auto none = c.get({"-r", "no-such-folder"});
	CHECK(none.status == 3);
	CHECK(none.err.find("no-such-folder/: nothing under it in the index") != std::string::npos);
	auto empty_list = c.get({"--list", "no-such-folder"});
	CHECK(empty_list.status == 0);
	CHECK(empty_list.err.find("lists nothing under no-such-folder/") != std::string::npos);
}
