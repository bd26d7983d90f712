#include "indexd/redis-link.h"
#include "indexd/redis-store.h"

#include <catch2/catch.hpp>

using namespace indexd;

TEST_CASE("--store redis://HOST[:PORT][/DB] parses; other forms are refused", "[indexd-redis]")
{
	RedisTarget t;
	std::string why;
	REQUIRE(parse_redis_url("redis://10.0.0.9", t, why));
	CHECK(t.host == "10.0.0.9");
	CHECK(t.port == 6379);
	CHECK(t.db == 0);
	REQUIRE(parse_redis_url("redis://[::1]:7000/3", t, why));
	CHECK(t.host == "::1");
	CHECK(t.port == 7000);
	CHECK(t.db == 3);
	CHECK_FALSE(parse_redis_url("http://x", t, why));
	CHECK_FALSE(parse_redis_url("redis://", t, why));
	CHECK_FALSE(parse_redis_url("redis://h:0", t, why));
	CHECK_FALSE(parse_redis_url("redis://h/x", t, why));
}

TEST_CASE("a holding's Redis member and record decode back to it", "[indexd-redis]")
{
	PeerKey key;
	key.host[10] = key.host[11] = 0xff;
	key.host[12] = 10;
	key.host[15] = 7;
	key.port = 0xabcd;
	p2p::Hash h{};
	h.fill(0x5a);
	std::string member = redis_member(key), rec = redis_record(5ull << 33, h, 17);
	CHECK(member.size() == 18);
	CHECK(rec.size() == 44);
	p2p::PeerHolding out;
	REQUIRE(parse_holding(member, rec, out));
	CHECK(out.host == key.host);
	CHECK(out.port == 0xabcd);
	CHECK(out.size == 5ull << 33);
	CHECK(out.hash == h);
	CHECK(out.chunks == 17);
	REQUIRE(parse_holding(member, redis_record(1, h, p2p::kCompleteHolding), out));
	CHECK(out.complete());
	CHECK_FALSE(parse_holding(member.substr(1), rec, out));
	CHECK_FALSE(parse_holding(member, rec.substr(0, 39), out));
}

TEST_CASE("HGETALL is formatted as hiredis formats it", "[indexd-redis]")
{
	for (std::string name : std::vector<std::string>{"a", "movies/a b.mkv", std::string(300, 'x'),
	                                               std::string("\0\r\n", 3)}) {
		std::string full = "{p2p}:n:" + name;
		const char* argv[] = {"HGETALL", full.data()};
		const size_t lens[] = {7, full.size()};
		char* cmd = nullptr;
		int len = redisFormatCommandArgv(&cmd, 2, argv, lens);
		REQUIRE(len > 0);
		std::string want(cmd, static_cast<std::size_t>(len));
		redisFreeCommand(cmd);
		std::string got = "left over";
		format_hgetall(got, {"{p2p}:", "n:", name});
		CHECK(got == want);
	}
}
