// indexd --store redis://: several indexd on one real redis-server share
// one index; the ownership of (host, port) holds across them; Redis going
// away is answered at once and healed after; the TTL holds in both stores.
#include "indexd-harness.h"
#include "redis-server.h"

#include <csignal>

using namespace indexd_test;
using namespace std::chrono_literals;
using p2p::ErrorCode;

namespace {

bool acked(Client& c, const p2p::Message& msg, p2p::MsgType of)
{
	auto r = ask<p2p::Ok>(c, msg);
	return r && r->of == of;
}

std::optional<ErrorCode> lookup_error(Client& c, const std::string& name)
{
	if (!c.send(p2p::Lookup{name}))
		return std::nullopt;
	return next_error(c, 2s);
}

} // namespace

TEST_CASE("two indexd on one Redis: registered at one, found and listed at the other", "[indexd-redis]")
{
	RedisServer redis;
	Indexd a({}, "30", redis.url()), b({}, "30", redis.url());
	Client peer, client;
	a.connect(peer);
	b.connect(client);
	REQUIRE(acked(peer, p2p::Register{7001, {{"shared.bin", 42, hash_of(7)}}}, p2p::MsgType::Register));
	// Visible at the other at once (well within the 1 s the contract allows).
	auto h = lookup(client, "shared.bin");
	REQUIRE(h.size() == 1);
	CHECK(h[0].port == 7001);
	CHECK(h[0].size == 42);
	CHECK(h[0].hash == hash_of(7));
	auto l = ask<p2p::ListReply>(client, p2p::List{"", 100});
	REQUIRE(l);
	REQUIRE(l->entries.size() == 1);
	CHECK(l->entries[0].name == "shared.bin");
	CHECK(l->entries[0].peers == 1);
	auto s = stats(client);
	CHECK(s["store_redis"] == 1);
	CHECK(s["redis_connected"] == 1);
	CHECK(s["peers"] == 1);
	REQUIRE(acked(peer, p2p::Update{{}, {"shared.bin"}}, p2p::MsgType::Update));
	CHECK(lookup(client, "shared.bin").empty());
	REQUIRE(acked(peer, p2p::Unregister{}, p2p::MsgType::Unregister));
	CHECK(stats(client)["peers"] == 0);
}

TEST_CASE("two keys racing for one (host, port) through two indexd: exactly one wins", "[indexd-redis]")
{
	RedisServer redis;
	Indexd a({}, "30", redis.url()), b({}, "30", redis.url());
	TempDir dir;
	auto k1 = make_identity(dir, "one"), k2 = make_identity(dir, "two");
	for (std::uint16_t port = 7100; port < 7120; port++) {
		Client c1, c2;
		a.connect(c1);
		b.connect(c2);
		p2p::Register reg{port, {{"race", 1, hash_of(1)}}};
		p2p::Nonce n1 = challenge(c1), n2 = challenge(c2);
		// Both sent before either reply is read: the two scripts race in Redis.
		REQUIRE(c1.send(identify(k1, n1, reg)));
		REQUIRE(c2.send(identify(k2, n2, reg)));
		REQUIRE(c1.send(reg));
		REQUIRE(c2.send(reg));
		auto r1 = c1.recv(), r2 = c2.recv();
		INFO("port " << port);
		CHECK(is_ok(r1) != is_ok(r2));
		CHECK((error_of(r1) == ErrorCode::AddressInUse || error_of(r2) == ErrorCode::AddressInUse));
	}
	// The same key takes its place back through the other indexd at once.
	Client old_conn, again, client;
	a.connect(old_conn);
	REQUIRE(is_ok(signed_register(old_conn, k1, p2p::Register{7200, {{"mine", 1, hash_of(2)}}})));
	b.connect(again);
	REQUIRE(is_ok(signed_register(again, k1, p2p::Register{7200, {{"mine", 1, hash_of(2)}}})));
	// The old connection is told within a refresh (a quarter TTL) and closed.
	CHECK(next_error(old_conn, 15s) == ErrorCode::AddressInUse);
	a.connect(client);
	CHECK(lookup(client, "mine").size() == 1);
}

TEST_CASE("Redis killed: errors at once; restarted: whole within 5 s, peers written again", "[indexd-redis]")
{
	RedisServer redis;
	Indexd a({}, "30", redis.url());
	Client peer, client;
	a.connect(peer);
	a.connect(client);
	REQUIRE(acked(peer, p2p::Register{7301, {{"kept.bin", 5, hash_of(3)}}}, p2p::MsgType::Register));
	REQUIRE(lookup(client, "kept.bin").size() == 1);

	redis.proc->signal(SIGKILL);
	redis.proc->wait();
	CHECK(eventually([&] { return lookup_error(client, "kept.bin") == ErrorCode::Unavailable; }, 3s));
	// Each request is answered at once, never left hanging.
	auto t0 = std::chrono::steady_clock::now();
	CHECK(lookup_error(client, "kept.bin") == ErrorCode::Unavailable);
	CHECK(std::chrono::steady_clock::now() - t0 < 1s);
	CHECK(a.proc.running());

	redis.start(); // empty: nothing persisted
	// The peer never re-registers: indexd writes its live peers again.
	CHECK(eventually(
		[&] {
			Client c;
			if (!c.connect(a.port))
				return false;
			auto r = ask<p2p::LookupReply>(c, p2p::Lookup{"kept.bin"});
			return r && r->peers.size() == 1;
		},
		5s));
	CHECK(ask<p2p::Pong>(peer, p2p::Ping{9})); // the same connection, still registered
	CHECK(a.proc.stderr_text().find("answering unavailable") != std::string::npos);
}

TEST_CASE("a peer frozen with SIGSTOP expires after the TTL in both stores", "[indexd-redis][ttl]")
{
	bool redis_store = GENERATE(false, true);
	std::unique_ptr<RedisServer> redis = redis_store ? std::make_unique<RedisServer>() : nullptr;
	Indexd index({}, "1", redis ? redis->url() : "");
	TempDir dir;
	fs::create_directories(dir / "9");
	write_text(dir / "9" / "frozen.txt", "ice");
	std::uint16_t pport = free_port();
	Process peer({bin("peerd"), "-d", (dir / "9").string(), "-p", std::to_string(pport), "-i",
	              "127.0.0.1:" + std::to_string(index.port)});
	Client client;
	index.connect(client);
	INFO("store " << (redis_store ? "redis" : "memory"));
	REQUIRE(eventually([&] { return lookup(client, "frozen.txt").size() == 1; }, 10s));
	peer.signal(SIGSTOP);
	// TTL 1 s: gone within a few, and not before the TTL.
	CHECK(lookup(client, "frozen.txt").size() == 1);
	CHECK(eventually([&] { return lookup(client, "frozen.txt").empty(); }, 5s));
	peer.signal(SIGCONT);
	// Thawed, it registers again by itself.
	CHECK(eventually([&] { return lookup(client, "frozen.txt").size() == 1; }, 10s));
}

TEST_CASE("kill -9 the indexd the peers use during a download: the file is whole, the peers listed via the other",
          "[indexd-redis][failover]")
{
	RedisServer redis;
	auto a = std::make_unique<Indexd>(std::vector<std::string>{}, "30", redis.url());
	Indexd b({}, "30", redis.url());
	std::string both = "127.0.0.1:" + std::to_string(a->port) + ",127.0.0.1:" + std::to_string(b.port);
	TempDir dir;
	std::vector<std::unique_ptr<Process>> peers;
	for (int i = 1; i <= 2; i++) {
		fs::path d = dir / "peers" / std::to_string(i);
		fs::create_directories(d);
		write_file(d / "big.bin", 24u << 20, 5);
		peers.push_back(std::make_unique<Process>(std::vector<std::string>{
			bin("peerd"), "-d", d.string(), "-p", std::to_string(free_port()), "-i", both, "--rate-limit", "8M"}));
	}
	Client client;
	b.connect(client);
	REQUIRE(eventually([&] { return lookup(client, "big.bin").size() == 2; }, 30s));
	fs::create_directories(dir / "out");
	// --no-serve: the download itself would register too, and the count
	// below is about the two peers.
	Process get({bin("p2pget"), "-q", "--no-serve", "-i", both, "-o", (dir / "out").string(), "big.bin"});
	std::this_thread::sleep_for(500ms); // the lookup is done, chunks flowing (24 MiB at 16 MB/s)
	a->proc.signal(SIGKILL);
	a->proc.wait();
	// The peers move to b and register again there within 5 s (their old
	// entries would only have lasted the TTL).
	CHECK(eventually([&] { return stats(client)["registers"] == 2; }, 5s));
	CHECK(lookup(client, "big.bin").size() == 2);
	auto status = get.wait(60s);
	INFO(get.stderr_text());
	CHECK(status == 0);
	CHECK(same_contents(dir / "out" / "big.bin", dir / "peers" / "1" / "big.bin"));
}
