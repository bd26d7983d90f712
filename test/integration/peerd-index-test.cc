// peerd and a real indexd: what the index hears, and when. Registration,
// live changes within 2 s, unregister on SIGTERM, pings within a short
// TTL, healing after an index restart, the hash cache across restarts and
// renames, and hidden names never listed.
#include "peerd-harness.h"

#include <algorithm>
#include <csignal>

using namespace peerd_test;

TEST_CASE("peerd registers its files; hidden files, .peerd and links are never listed", "[peerd][index]")
{
	Index index;
	index.start();
	TempDir outside;
	write_text(outside / "secret", "outside");
	Peer peer;
	write_file(peer.dir / "a.bin", 3 * p2p::kChunkSize + 5, 1);
	write_text(peer.dir / "docs/readme.txt", "hello");
	write_text(peer.dir / ".hidden", "no");
	write_text(peer.dir / "docs/.draft", "no");
	write_text(peer.dir / ".cache/thing", "no");
	fs::create_symlink(outside / "secret", peer.dir / "link");
	fs::create_directory_symlink(outside.path(), peer.dir / "linkdir");
	peer.start(index.addr());
	REQUIRE(peer.ready());

	p2p::Hash a = file_content_hash(peer.dir / "a.bin");
	CHECK(eventually([&] { return index_has(index.port, "a.bin", peer.port, a); }));
	auto names = index_names(index.port);
	std::sort(names.begin(), names.end());
	CHECK(names == std::vector<std::string>{"a.bin", "docs/readme.txt"});
	auto h = holders(index.port, "docs/readme.txt");
	REQUIRE(h.size() == 1);
	CHECK(h[0].size == 5);
	CHECK(p2p::format_ip(h[0].host) == "127.0.0.1");
	// .peerd/ holds the cache, and is itself never shared.
	CHECK(fs::exists(peer.dir / ".peerd"));
	peer.stop();
}

TEST_CASE("peerd announces files added, changed and removed within 2 s", "[peerd][index][watch]")
{
	Index index;
	index.start();
	Peer peer;
	write_text(peer.dir / "first", "1");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(index.port, "first", peer.port); }));

	// Added: written in place (announced once closed), moved in, and in a
	// folder made after the start.
	write_file(peer.dir / "added.bin", 3 << 20, 2);
	write_text(peer.root / "staging", "moved in");
	fs::rename(peer.root / "staging", peer.dir / "moved");
	write_text(peer.dir / "new/deeper/file", "deep");
	CHECK(eventually([&] { return index_has(index.port, "added.bin", peer.port, file_content_hash(peer.dir / "added.bin")); }));
	CHECK(eventually([&] { return index_has(index.port, "moved", peer.port); }));
	CHECK(eventually([&] { return index_has(index.port, "new/deeper/file", peer.port); }));

	// Changed: a new hash replaces the old one.
	write_text(peer.dir / "first", "first, longer now");
	p2p::Hash changed = file_content_hash(peer.dir / "first");
	CHECK(eventually([&] { return index_has(index.port, "first", peer.port, changed); }));

	// Removed: the file, and a whole folder.
	fs::remove(peer.dir / "moved");
	fs::remove_all(peer.dir / "new");
	CHECK(eventually([&] { return !index_has(index.port, "moved", peer.port); }));
	CHECK(eventually([&] { return !index_has(index.port, "new/deeper/file", peer.port); }));
	CHECK(index_has(index.port, "added.bin", peer.port));

	// SIGHUP rescans (here: nothing changed, nothing lost).
	peer.proc->signal(SIGHUP);
	CHECK(eventually([&] { return peer.log().find("SIGHUP: rescanning") != std::string::npos; }));
	CHECK(index_has(index.port, "first", peer.port, changed));
	peer.stop();
}

TEST_CASE("peerd SIGTERM unregisters and exits 0", "[peerd][index][signals]")
{
	Index index;
	index.start();
	Peer peer;
	write_text(peer.dir / "file", "content");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(index.port, "file", peer.port); }));
	peer.proc->signal(SIGTERM);
	CHECK(peer.proc->wait(10s) == 0);
	CHECK(holders(index.port, "file").empty());
	CHECK(peer.log().find("unregistered") != std::string::npos);
}

TEST_CASE("peerd pings within a short index TTL and is never dropped", "[peerd][index][ttl]")
{
	// A 2 s TTL is shorter than peerd's default 5 s ping: kept only if it
	// learned the TTL from the index.
	Index index;
	index.start({"-t", "2"});
	Peer peer;
	write_text(peer.dir / "file", "content");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(index.port, "file", peer.port); }));
	std::this_thread::sleep_for(7s);
	auto s = index_stats(index.port);
	CHECK(s["ttl_ms"] == 2000);
	CHECK(s["expired"] == 0);
	CHECK(s["registers"] == 1);
	CHECK(index_has(index.port, "file", peer.port));
	peer.stop();
}

TEST_CASE("peerd re-registers within 5 s after the index restarts", "[peerd][index][reconnect]")
{
	Index index;
	index.start();
	Peer peer;
	write_text(peer.dir / "file", "content");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return index_has(index.port, "file", peer.port); }));

	index.proc->signal(SIGKILL);
	index.proc->wait();
	// While the index is away the peer keeps serving.
	Client c;
	REQUIRE(c.connect(peer.port));
	CHECK(manifest(c, "file").has_value());
	// A change made while away is in the next registration.
	write_text(peer.dir / "while-away", "x");
	std::this_thread::sleep_for(1s);

	index.start(); // same port
	CHECK(eventually([&] { return index_has(index.port, "file", peer.port); }, 5s));
	CHECK(eventually([&] { return index_has(index.port, "while-away", peer.port); }, 5s));
	peer.stop();
}

TEST_CASE("peerd restart on unchanged files hashes nothing", "[peerd][index][cache]")
{
	Index index;
	index.start();
	Peer peer;
	write_file(peer.dir / "one", 5 << 20, 1);
	write_file(peer.dir / "sub/two", 1000, 2);
	write_text(peer.dir / "three", "3");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	CHECK(peer.log().find("hashed 3 files, 0 from cache") != std::string::npos);
	REQUIRE(peer.stop() == 0);

	peer.start(index.addr());
	REQUIRE(peer.ready());
	INFO(peer.log());
	CHECK(peer.log().find("hashed 0 files, 3 from cache") != std::string::npos);
	CHECK(eventually([&] { return index_has(index.port, "one", peer.port, file_content_hash(peer.dir / "one")); }));
	REQUIRE(peer.stop() == 0);

	// One file changed while it was down: only that one is hashed.
	write_text(peer.dir / "three", "three");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	CHECK(peer.log().find("hashed 1 files, 2 from cache") != std::string::npos);
	CHECK(eventually([&] { return index_has(index.port, "three", peer.port, file_content_hash(peer.dir / "three")); }));
	peer.stop();
}

TEST_CASE("peerd: a file renamed within the share is not hashed again", "[peerd][index][cache]")
{
	Index index;
	index.start();
	Peer peer;
	write_file(peer.dir / "big", 9 << 20, 4);
	fs::create_directories(peer.dir / "archive");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	p2p::Hash h = file_content_hash(peer.dir / "big");
	REQUIRE(eventually([&] { return index_has(index.port, "big", peer.port, h); }));
	REQUIRE(peer_counter(peer, "files_hashed").value_or(0) == 1);

	fs::rename(peer.dir / "big", peer.dir / "archive/big");
	CHECK(eventually([&] { return index_has(index.port, "archive/big", peer.port, h); }));
	CHECK(eventually([&] { return !index_has(index.port, "big", peer.port); }));
	CHECK(peer_counter(peer, "files_hashed").value_or(0) == 1);
	CHECK(peer_counter(peer, "files_from_cache").value_or(0) == 1);
	peer.stop();
}

TEST_CASE("peerd reaches an index over IPv6, given by P2P_INDEX", "[peerd][index][ipv6]")
{
	Index index;
	index.proc = std::make_unique<Process>(
		std::vector<std::string>{bin("indexd"), "-p", std::to_string(index.port), "-l", "::1"});
	REQUIRE(wait_for_port(index.port, 10s, true));
	Peer peer;
	write_text(peer.dir / "six", "over v6");
	peer.proc = std::make_unique<Process>(
		std::vector<std::string>{bin("peerd"), "-d", peer.dir.string(), "-p", std::to_string(peer.port), "-v"},
		std::vector<std::string>{"P2P_INDEX=[::1]:" + std::to_string(index.port)});
	REQUIRE(wait_for_port(peer.port));
	REQUIRE(peer.ready());
	auto found = [&] {
		Client c;
		if (!c.connect(index.port, true))
			return false;
		auto reply = ask<p2p::LookupReply>(c, p2p::Lookup{"six"});
		return reply && reply->peers.size() == 1 && reply->peers[0].port == peer.port &&
		       p2p::format_ip(reply->peers[0].host) == "::1";
	};
	CHECK(eventually(found));
	REQUIRE(peer.stop() == 0);
}
