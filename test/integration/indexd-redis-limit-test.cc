// indexd's RedisStore in this process, against a real redis-server: the
// per-peer file limit holds on Redis as it does in memory. A REGISTER
// beyond it is Busy and keeps nothing; an UPDATE or UPDATE_PARTIAL keeps
// what came before the limit, then is Busy. (Through indexd itself the
// limit is millions of files, too many for a test.)
#include "indexd/redis-store.h"
#include "redis-server.h"

#include "p2p/ev.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

using namespace indexd;
using p2p::ErrorCode;

namespace {

struct Loop {
	p2p::EventBasePtr base{event_base_new()};

	// Turns the loop until `done`, for at most 10 s.
	template <typename Fn>
	bool until(Fn done)
	{
		auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (!done() && std::chrono::steady_clock::now() < end) {
			event_base_loop(base.get(), EVLOOP_NONBLOCK);
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
		}
		return done();
	}
};

p2p::FileEntry file(int i) { return {"f" + std::to_string(i), 100u + static_cast<unsigned>(i), {}}; }

std::size_t holders(Loop& loop, RedisStore& store, const std::string& name)
{
	std::optional<std::size_t> n;
	store.lookup(name, 16, true, [&](ErrorCode e, std::vector<p2p::PeerHolding>& out) {
		n = e == ErrorCode::None ? out.size() : 99;
	});
	REQUIRE(loop.until([&] { return n.has_value(); }));
	return *n;
}

} // namespace

TEST_CASE("indexd on Redis: the per-peer file limit holds as in memory", "[indexd-redis]")
{
	fixtures::RedisServer redis;
	Loop loop;
	RedisTarget target;
	std::string error;
	REQUIRE(parse_redis_url(redis.url(), target, error));
	RedisStore store(loop.base.get(), target, 30, 16384, 3);
	store.start();
	REQUIRE(loop.until([&] { return store.connected(); }));
	PeerKey a{{}, 7001}, b{{}, 7002};
	a.host[15] = b.host[15] = 1;

	std::optional<ErrorCode> added;
	auto on_added = [&](PeerId, ErrorCode e, std::optional<PeerId>) { added = e; };
	std::vector<p2p::FileEntry> four{file(0), file(1), file(2), file(3)};
	store.add(a, "", four, 0, on_added);
	REQUIRE(loop.until([&] { return added.has_value(); }));
	CHECK(*added == ErrorCode::Busy);
	CHECK(holders(loop, store, "f0") == 0); // nothing kept

	added.reset();
	PeerId id = store.add(b, "", std::span(four).first(3), 0, on_added);
	REQUIRE(loop.until([&] { return added.has_value(); }));
	REQUIRE(*added == ErrorCode::None);

	std::optional<ErrorCode> updated;
	auto on_updated = [&](ErrorCode e) { updated = e; };
	// f0 replaced (held already), f4 beyond the limit; the removal still runs.
	std::vector<p2p::FileEntry> more{{"f0", 555, {}}, file(4)};
	std::vector<std::string> gone{"f1"};
	store.update(id, more, gone, 1, on_updated);
	REQUIRE(loop.until([&] { return updated.has_value(); }));
	CHECK(*updated == ErrorCode::Busy);
	CHECK(holders(loop, store, "f0") == 1);
	CHECK(holders(loop, store, "f4") == 0);
	CHECK(holders(loop, store, "f1") == 0);

	// Two held now: one partial entry fits, the next does not.
	updated.reset();
	std::vector<p2p::PartialEntry> partial{{file(5), 2}, {file(6), 2}};
	store.update_partial(id, partial, 2, on_updated);
	REQUIRE(loop.until([&] { return updated.has_value(); }));
	CHECK(*updated == ErrorCode::Busy);
	CHECK(holders(loop, store, "f5") == 1);
	CHECK(holders(loop, store, "f6") == 0);
}
