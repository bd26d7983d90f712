// peerd's identity: a private Ed25519 key under DIR/.peerd, every
// registration signed with it, a restart after a crash let in at once
// (the same key replaces its own stale session), and another key refused.
#include "peerd-harness.h"

#include <algorithm>
#include <csignal>
#include <sys/stat.h>

using namespace peerd_test;

TEST_CASE("peerd signs its registration with a key kept private in DIR/.peerd", "[peerd][identity]")
{
	Index index;
	index.start();
	Peer peer;
	write_text(peer.dir / "signed.txt", "signed");
	peer.start(index.addr());
	REQUIRE(eventually([&] { return index_has(index.port, "signed.txt", peer.port); }, 10s));

	fs::path key = peer.dir / ".peerd" / "identity";
	struct stat st{};
	REQUIRE(::stat(key.c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	REQUIRE(::stat((peer.dir / ".peerd").c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0700);
	auto s = index_stats(index.port);
	CHECK(s["signed_registers"] == 1);
	CHECK(s["bad_signatures"] == 0);
	// Never shared.
	for (auto& name : index_names(index.port))
		CHECK(name.find("identity") == std::string::npos);

	// The same key on the next start.
	auto before = load_identity(key).public_key();
	REQUIRE(peer.stop() == 0);
	peer.start(index.addr());
	REQUIRE(eventually([&] { return index_has(index.port, "signed.txt", peer.port); }, 10s));
	CHECK(load_identity(key).public_key() == before);
	CHECK(index_stats(index.port)["signed_registers"] == 2);
}

TEST_CASE("peerd refuses to start with a key file others can read", "[peerd][identity][args]")
{
	Peer peer;
	fs::create_directories(peer.dir / ".peerd");
	load_identity(peer.dir / ".peerd" / "identity");
	fs::permissions(peer.dir / ".peerd" / "identity", fs::perms::group_read | fs::perms::others_read,
	                fs::perm_options::add);
	auto r = run({bin("peerd"), "-d", peer.dir.string(), "-p", std::to_string(peer.port), "-i",
	              "127.0.0.1:" + std::to_string(free_port())});
	CHECK(r.status == 1);
	CHECK(r.err.find("peerd: ") == 0);
	CHECK(r.err.find("readable by others") != std::string::npos);
	CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("peerd restarted after a crash is listed again at once, its stale session replaced",
          "[peerd][identity][takeover]")
{
	Index index;
	// A long TTL: without the takeover the stale entry would hold the port
	// for a minute.
	index.start({"-t", "60"});
	Peer peer;
	write_text(peer.dir / "after.txt", "after the crash");
	peer.start(index.addr());
	REQUIRE(eventually([&] { return index_has(index.port, "after.txt", peer.port); }, 10s));

	SECTION("kill -9 and start again on the same DIR and port")
	{
		peer.proc->signal(SIGKILL);
		REQUIRE(peer.proc->wait(5s));
		peer.start(index.addr());
		CHECK(eventually([&] { return index_has(index.port, "after.txt", peer.port); }, 5s));
	}
	SECTION("the crashed peer's connection is still open (its host vanished)")
	{
		// The crash, seen from the index: a live connection holding the
		// peer's (host, port), signed with the peer's own key.
		auto key = load_identity(peer.dir / ".peerd" / "identity");
		peer.proc->signal(SIGKILL);
		REQUIRE(peer.proc->wait(5s));
		REQUIRE(eventually([&] { return !index_has(index.port, "after.txt", peer.port); }));
		Client stale;
		REQUIRE(stale.connect(index.port));
		auto reply = signed_register(stale, key, p2p::Register{peer.port, {{"stale.txt", 1, p2p::Hash{}}}});
		REQUIRE(reply);
		REQUIRE(std::holds_alternative<p2p::Ok>(*reply));
		REQUIRE(index_has(index.port, "stale.txt", peer.port));

		auto started = std::chrono::steady_clock::now();
		peer.start(index.addr());
		REQUIRE(eventually([&] { return index_has(index.port, "after.txt", peer.port); }, 10s));
		auto took = std::chrono::steady_clock::now() - started;
		INFO("listed again after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
		CHECK(took < 5s); // the TTL is 60 s
		CHECK(holders(index.port, "stale.txt").empty());
		CHECK(error_code(stale.recv()) == p2p::ErrorCode::AddressInUse);
		auto s = index_stats(index.port);
		CHECK(s["takeovers"] == 1);
		CHECK(s["peers"] == 1);
	}
	CHECK(peer.proc->running());
}

TEST_CASE("another key cannot take a live peerd's (host, port)", "[peerd][identity][forgery]")
{
	Index index;
	index.start({"-t", "60"});
	Peer peer;
	write_text(peer.dir / "mine.txt", "mine");
	peer.start(index.addr());
	REQUIRE(eventually([&] { return index_has(index.port, "mine.txt", peer.port); }, 10s));

	TempDir elsewhere;
	auto foreign = load_identity(elsewhere / "foreign.key");
	Client thief;
	REQUIRE(thief.connect(index.port));
	auto reply = signed_register(thief, foreign, p2p::Register{peer.port, {{"theirs.txt", 1, p2p::Hash{}}}});
	CHECK(error_code(reply) == p2p::ErrorCode::AddressInUse);
	// Nor without a signature.
	Client plain;
	REQUIRE(plain.connect(index.port));
	auto e = ask<p2p::Error>(plain, p2p::Register{peer.port, {{"theirs.txt", 1, p2p::Hash{}}}});
	REQUIRE(e);
	CHECK(e->code == p2p::ErrorCode::AddressInUse);

	CHECK(holders(index.port, "theirs.txt").empty());
	CHECK(index_has(index.port, "mine.txt", peer.port));
	auto s = index_stats(index.port);
	CHECK(s["refused"] == 2);
	CHECK(s["takeovers"] == 0);
	// The owner never noticed.
	std::this_thread::sleep_for(300ms);
	CHECK(peer.log().find("lost the index") == std::string::npos);
	CHECK(peer.stop() == 0);
}

TEST_CASE("peerd whose (host, port) another key holds is refused, and gets in once it is free",
          "[peerd][identity][forgery]")
{
	Index index;
	index.start({"-t", "60"});
	Peer peer;
	write_text(peer.dir / "real.txt", "real");
	TempDir elsewhere;
	auto foreign = load_identity(elsewhere / "foreign.key");
	auto squatter = std::make_unique<Client>();
	REQUIRE(squatter->connect(index.port));
	auto reply = signed_register(*squatter, foreign, p2p::Register{peer.port, {{"squat.txt", 1, p2p::Hash{}}}});
	REQUIRE(reply);
	REQUIRE(std::holds_alternative<p2p::Ok>(*reply));

	peer.start(index.addr());
	REQUIRE(peer.ready());
	REQUIRE(eventually([&] { return peer.log().find("registered by another live connection") != std::string::npos; }));
	CHECK_FALSE(index_has(index.port, "real.txt", peer.port));
	CHECK(index_has(index.port, "squat.txt", peer.port));
	CHECK(index_stats(index.port)["takeovers"] == 0);
	CHECK(peer_counter(peer, "index_refused") >= 1);

	// Retrying with backoff (at most 2 s apart), it gets in once the port is free.
	squatter.reset();
	CHECK(eventually([&] { return index_has(index.port, "real.txt", peer.port); }, 6s));
	CHECK(peer.proc->running());
	CHECK(peer.stop() == 0);
}
