// Several index addresses (-i A,B): peerd keeps one control connection and
// moves to the next index within 2 s when its index goes away; p2pget asks
// the first that answers and says when it moves on.
#include "peerd-harness.h"

#include <csignal>

using namespace peerd_test;

TEST_CASE("peerd -i A,B registers at A, and at B within 2 s of A's death", "[indexd-redis][failover]")
{
	Index a, b;
	a.start();
	b.start();
	Peer peer;
	write_text(peer.dir / "f.txt", "failover");
	peer.start(a.addr() + "," + b.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(a.port, "f.txt", peer.port); }));
	CHECK_FALSE(index_has(b.port, "f.txt", peer.port));

	a.proc->signal(SIGKILL);
	a.proc->wait();
	// 2 s to move on, plus a wide margin for a loaded machine.
	CHECK(eventually([&] { return index_has(b.port, "f.txt", peer.port); }, 4s));
	CHECK(peer.log().find("moving to " + b.addr()) != std::string::npos);

	// B goes too, A is back: it comes back to A by the same rule.
	a.start();
	b.proc->signal(SIGKILL);
	b.proc->wait();
	CHECK(eventually([&] { return index_has(a.port, "f.txt", peer.port); }, 6s));
	peer.stop();
}

TEST_CASE("p2pget -i DEAD,B asks B and says so; all dead is exit 4", "[indexd-redis][failover]")
{
	Index b;
	b.start();
	Peer peer;
	write_text(peer.dir / "g.txt", "from b");
	peer.start(b.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(b.port, "g.txt", peer.port); }));
	TempDir out;
	std::string dead = "127.0.0.1:" + std::to_string(free_port());
	auto r = run({bin("p2pget"), "-i", dead + "," + b.addr(), "-o", out.path().string(), "g.txt"});
	INFO(r.err);
	CHECK(r.status == 0);
	CHECK(read_all(out / "g.txt") == "from b");
	CHECK(r.err.find("index " + dead) != std::string::npos);
	CHECK(r.err.find("asking " + b.addr()) != std::string::npos);

	auto listed = run({bin("p2pget"), "-i", b.addr() + "," + dead, "--list"});
	CHECK(listed.status == 0);
	CHECK(listed.out.find("g.txt") != std::string::npos);
	CHECK(listed.err.find("asking") == std::string::npos); // the first answered

	auto none = run({bin("p2pget"), "-i", dead + "," + dead, "-o", out.path().string(), "g.txt"},
	                {"P2P_INDEX=" + b.addr()});
	CHECK(none.status == 4);
	auto env = run({bin("p2pget"), "--list"}, {"P2P_INDEX=" + dead + "," + b.addr()});
	CHECK(env.status == 0);
	CHECK(env.out.find("g.txt") != std::string::npos);
	peer.stop();
}
