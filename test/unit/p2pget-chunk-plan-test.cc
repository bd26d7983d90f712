// The chunk plan's decisions: queue order, faster peers taking more,
// retries, dropped peers, resume holds and the endgame.
#include "../../src/p2pget/chunk-plan.h"

#include <catch2/catch.hpp>

#include <set>

using p2pget::ChunkPlan;

TEST_CASE("chunk plan hands out chunks in order from one shared queue", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(5);
	auto a = plan.add_peer(), b = plan.add_peer();
	CHECK(plan.next(a, 0) == 0u);
	CHECK(plan.next(b, 0) == 1u);
	CHECK(plan.next(a, 0) == 2u);
	CHECK(plan.in_flight(a) == 2);
	CHECK(plan.in_flight(b) == 1);
	CHECK(plan.queued() == 2);
	CHECK_FALSE(plan.endgame());
}

TEST_CASE("a peer that asks more often gets more chunks", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(30);
	auto fast = plan.add_peer(), slow = plan.add_peer();
	int got_fast = 0, got_slow = 0;
	double t = 0;
	// The fast peer completes three chunks for each of the slow one's.
	while (plan.queued() > 0) {
		for (int k = 0; k < 3 && plan.queued() > 0; k++) {
			auto c = plan.next(fast, t++);
			REQUIRE(c);
			REQUIRE(plan.verified(fast, *c));
			got_fast++;
		}
		if (auto c = plan.next(slow, t++)) {
			REQUIRE(plan.verified(slow, *c));
			got_slow++;
		}
	}
	CHECK(plan.complete());
	CHECK(got_fast + got_slow == 30);
	CHECK(got_fast > 2 * got_slow);
}

TEST_CASE("a failed chunk goes back to the front of the queue", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(4);
	auto a = plan.add_peer(), b = plan.add_peer();
	REQUIRE(plan.next(a, 0) == 0u);
	REQUIRE(plan.next(b, 0) == 1u);
	plan.failed(a, 0);
	CHECK(plan.retries() == 1);
	CHECK(plan.in_flight(a) == 0);
	CHECK(plan.next(b, 1) == 0u); // retried before the untouched chunks 2, 3
	CHECK(plan.next(a, 1) == 2u);
}

TEST_CASE("dropping a peer re-queues all its chunks and never uses it again", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(6);
	auto bad = plan.add_peer(), good = plan.add_peer();
	REQUIRE(plan.next(bad, 0) == 0u);
	REQUIRE(plan.next(bad, 0) == 1u);
	REQUIRE(plan.next(good, 0) == 2u);
	auto lost = plan.drop_peer(bad);
	CHECK(lost == std::vector<std::uint32_t>{0, 1});
	CHECK_FALSE(plan.peer_live(bad));
	CHECK(plan.live_peers() == 1);
	CHECK_FALSE(plan.next(bad, 1));
	std::set<std::uint32_t> got;
	while (auto c = plan.next(good, 2))
		got.insert(*c);
	CHECK(got == std::set<std::uint32_t>{0, 1, 3, 4, 5});
	// A late verdict about the dropped peer's chunk is stale.
	CHECK_FALSE(plan.verified(bad, 0));
}

TEST_CASE("the plan starves only when no peer is left", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(2);
	CHECK(plan.starved()); // no peer yet
	auto a = plan.add_peer(), b = plan.add_peer();
	CHECK_FALSE(plan.starved());
	plan.drop_peer(a);
	CHECK_FALSE(plan.starved());
	plan.drop_peer(b);
	CHECK(plan.starved());

	ChunkPlan empty(0);
	CHECK(empty.complete());
	CHECK_FALSE(empty.starved());
}

TEST_CASE("endgame: an idle peer duplicates the request waiting longest", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto slow = plan.add_peer(), mid = plan.add_peer(), fast = plan.add_peer();
	REQUIRE(plan.next(slow, 1.0) == 0u);
	REQUIRE(plan.next(mid, 2.0) == 1u);
	REQUIRE(plan.next(fast, 3.0) == 2u);
	REQUIRE(plan.verified(fast, 2));
	CHECK(plan.endgame());
	// The oldest outstanding request is the slow peer's chunk 0.
	CHECK(plan.next(fast, 4.0) == 0u);
	CHECK(plan.copies(0) == 2);
	CHECK(plan.duplicates() == 1);
	// With max_copies 2 chunk 0 is not copied a third time; chunk 1 is next.
	CHECK(plan.next(fast, 4.0) == 1u);
	CHECK_FALSE(plan.next(fast, 5.0));
	// No duplicates when the caller cannot afford them.
	CHECK_FALSE(plan.next(slow, 5.0, false));
	// The first verified copy wins; the other holder is told to discard.
	auto others = plan.verified(fast, 0);
	REQUIRE(others);
	CHECK(*others == std::vector<ChunkPlan::PeerId>{slow});
	CHECK(plan.in_flight(slow) == 0);
	CHECK_FALSE(plan.verified(slow, 0)); // the loser's copy is stale
	CHECK(plan.done_count() == 2);
}

TEST_CASE("endgame: a failed duplicate does not re-queue while a copy is in flight", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(1);
	auto a = plan.add_peer(), b = plan.add_peer();
	REQUIRE(plan.next(a, 0) == 0u);
	REQUIRE(plan.next(b, 1) == 0u);
	plan.failed(b, 0);
	CHECK(plan.copies(0) == 1);
	CHECK(plan.retries() == 0);
	CHECK(plan.queued() == 0);
	plan.drop_peer(a);
	CHECK(plan.queued() == 1);
	CHECK(plan.retries() == 1);
	CHECK(plan.next(b, 2) == 0u);
	REQUIRE(plan.verified(b, 0));
	CHECK(plan.complete());
}

TEST_CASE("resume: held chunks are skipped, then done or released", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(4);
	plan.hold(0);
	plan.hold(2);
	CHECK(plan.queued() == 2);
	auto a = plan.add_peer();
	CHECK(plan.next(a, 0) == 1u);
	plan.done(0);
	plan.release(2);
	CHECK(plan.next(a, 0) == 2u);
	CHECK(plan.next(a, 0) == 3u);
	CHECK_FALSE(plan.next(a, 0, false));
	REQUIRE(plan.verified(a, 1));
	REQUIRE(plan.verified(a, 2));
	REQUIRE(plan.verified(a, 3));
	CHECK(plan.complete());
	CHECK_THROWS(plan.done(1));
}

TEST_CASE("no endgame copies while held chunks may still come back", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	plan.hold(0);
	plan.hold(1);
	auto a = plan.add_peer();
	auto b = plan.add_peer();
	REQUIRE(plan.next(a, 0) == 2u);
	// Queue empty, but 0 and 1 are still being checked on disk.
	CHECK_FALSE(plan.endgame());
	CHECK_FALSE(plan.next(b, 100));
	plan.release(0);
	CHECK(plan.next(b, 100) == 0u);
	plan.done(1);
	CHECK(plan.endgame());
	CHECK(plan.next(b, 100) == 2u); // now a copy of a's old request
	CHECK(plan.duplicates() == 1);
}

TEST_CASE("a chunk failing on every peer in turn ends starved", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(1);
	std::vector<ChunkPlan::PeerId> peers;
	for (int i = 0; i < 3; i++)
		peers.push_back(plan.add_peer());
	for (auto p : peers) {
		REQUIRE(plan.next(p, 0) == 0u);
		plan.drop_peer(p); // sent bad data
	}
	CHECK(plan.starved());
	CHECK(plan.retries() == 3);
}

TEST_CASE("random schedules always finish with every chunk verified exactly once", "[p2pget][chunk-plan]")
{
	std::uint32_t seed = 12345;
	auto rnd = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
	for (int round = 0; round < 50; round++) {
		std::uint32_t n = rnd() % 40;
		ChunkPlan plan(n, 1 + rnd() % 3);
		std::vector<ChunkPlan::PeerId> peers;
		for (int i = 0; i < 4; i++)
			peers.push_back(plan.add_peer());
		std::vector<std::pair<ChunkPlan::PeerId, std::uint32_t>> flying;
		std::vector<int> wins(n, 0);
		double t = 0;
		for (int step = 0; step < 10000 && !plan.complete() && !plan.starved(); step++) {
			auto p = peers[rnd() % peers.size()];
			if (plan.peer_live(p) && plan.in_flight(p) < 3) {
				if (auto c = plan.next(p, t++))
					flying.emplace_back(p, *c);
			}
			if (flying.empty())
				continue;
			auto idx = rnd() % flying.size();
			auto [fp, fc] = flying[idx];
			flying.erase(flying.begin() + idx);
			int what = rnd() % 20;
			if (what == 0 && plan.live_peers() > 1)
				plan.drop_peer(fp);
			else if (what == 1)
				plan.failed(fp, fc);
			else if (auto others = plan.verified(fp, fc))
				wins[fc]++;
		}
		REQUIRE(plan.complete());
		for (auto w : wins)
			CHECK(w == 1);
	}
}

TEST_CASE("endgame: only requests older than the minimum age are copied", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto a = plan.add_peer(), b = plan.add_peer();
	REQUIRE(plan.next(a, 10.0) == 0u);
	REQUIRE(plan.next(a, 10.5) == 1u);
	REQUIRE(plan.next(a, 10.9) == 2u);
	CHECK_FALSE(plan.next(b, 11.0, true, 2.0)); // none has waited 2 s yet
	CHECK(plan.next(b, 12.6, true, 2.0) == 0u);  // chunk 0 has, and is oldest
	CHECK(plan.next(b, 12.6, true, 2.0) == 1u);  // 2.1 s
	CHECK_FALSE(plan.next(b, 12.6, true, 2.0)); // chunk 2: only 1.7 s
}
