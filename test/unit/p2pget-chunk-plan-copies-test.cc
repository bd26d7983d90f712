// The chunk plan's endgame policy: which copy writes into the file and
// which is buffered, the duplicate budget spent and given back on every way
// a copy ends, and the minimum age of a copy from the chunk times it saw.
#include "../../src/p2pget/chunk-plan.h"

#include <catch2/catch.hpp>

#include <optional>

using p2pget::ChunkPlan;
using Mode = ChunkPlan::Mode;

namespace {

ChunkPlan::Assignment must(std::optional<ChunkPlan::Assignment> a)
{
	REQUIRE(a);
	return *a;
}

// Two complete peers; a writes chunk 0 (from t = 0), b has verified chunk 1
// and is idle, so an endgame copy of 0 is b's for the asking.
struct Endgame {
	p2pget::DupBudget budget{2};
	ChunkPlan plan{2, 2, &budget};
	ChunkPlan::PeerId a = plan.add_peer(), b = plan.add_peer();
	Endgame()
	{
		REQUIRE(must(plan.assign(a, 0, true)).chunk == 0);
		REQUIRE(must(plan.assign(b, 0, true)).chunk == 1);
		REQUIRE(plan.verified(b, 1));
	}
	// b's buffered copy of chunk 0, at t = 1.
	void copy()
	{
		auto c = must(plan.assign(b, 1.0, true));
		REQUIRE(c.chunk == 0);
		REQUIRE(c.mode == Mode::Buffer);
		REQUIRE(budget.free == 1);
	}
};

} // namespace

TEST_CASE("copies: the first copy writes, an endgame copy is buffered and costs budget", "[p2pget][chunk-plan]")
{
	Endgame e;
	CHECK(e.plan.writing(e.a, 0));
	CHECK_FALSE(e.plan.assign(e.b, 0.2, true)); // younger than the 0.5 s minimum
	CHECK_FALSE(e.plan.assign(e.b, 1.0, false)); // not idle
	CHECK(e.budget.free == 2);
	e.copy();
	CHECK(e.plan.buffered() == 1);
	CHECK(e.plan.copies(0) == 2);
	CHECK_FALSE(e.plan.writing(e.b, 0));
	CHECK(e.plan.writing(e.a, 0)); // still the one writer
	CHECK(e.plan.duplicates() == 1);
}

TEST_CASE("copies: the verified path when the buffered copy wins", "[p2pget][chunk-plan]")
{
	Endgame e;
	e.copy();
	auto others = e.plan.verified(e.b, 0);
	REQUIRE(others);
	CHECK(*others == std::vector<ChunkPlan::PeerId>{e.a}); // the writer stops
	CHECK_FALSE(e.plan.writing(e.a, 0));                   // its verdict is now stale
	CHECK(e.budget.free == 2);
	CHECK(e.plan.buffered() == 0);
	CHECK(e.plan.is_done(0));
	CHECK(e.plan.complete());
	CHECK(e.plan.in_flight(e.a) == 0);
	CHECK_FALSE(e.plan.verified(e.a, 0));
}

TEST_CASE("copies: budget back when the writer wins and the buffered copy is discarded", "[p2pget][chunk-plan]")
{
	Endgame e;
	e.copy();
	auto others = e.plan.verified(e.a, 0);
	REQUIRE(others);
	CHECK(*others == std::vector<ChunkPlan::PeerId>{e.b});
	CHECK(e.budget.free == 2);
	CHECK(e.plan.buffered() == 0);
}

TEST_CASE("copies: budget back when the buffered copy fails", "[p2pget][chunk-plan]")
{
	Endgame e;
	e.copy();
	e.plan.failed(e.b, 0);
	CHECK(e.budget.free == 2);
	CHECK(e.plan.copies(0) == 1);
	CHECK(e.plan.retries() == 0); // the writer still has it
}

TEST_CASE("copies: budget back when the buffered copy's peer is dropped", "[p2pget][chunk-plan]")
{
	Endgame e;
	e.copy();
	CHECK(e.plan.drop_peer(e.b) == std::vector<std::uint32_t>{0});
	CHECK(e.budget.free == 2);
	CHECK(e.plan.writing(e.a, 0));
}

TEST_CASE("copies: budget back when the plan ends with copies in flight", "[p2pget][chunk-plan]")
{
	p2pget::DupBudget budget{2};
	std::optional<ChunkPlan> first, second;
	first.emplace(1, 2, &budget);
	second.emplace(1, 2, &budget);
	for (auto* plan : {&*first, &*second}) {
		auto a = plan->add_peer(), b = plan->add_peer();
		REQUIRE(plan->next(a, 0) == 0u);
		REQUIRE(plan->next(b, 1) == 0u); // a buffered copy
	}
	// One budget for the process: both plans spent from it, a third cannot.
	CHECK(budget.free == 0);
	ChunkPlan third(1, 2, &budget);
	auto a = third.add_peer(), b = third.add_peer();
	REQUIRE(third.next(a, 0) == 0u);
	CHECK_FALSE(third.next(b, 1));
	first.reset();
	CHECK(budget.free == 1);
	CHECK(third.next(b, 1) == 0u);
	second.reset();
	CHECK(budget.free == 1);
}

TEST_CASE("copies: no budget, no buffered copy; a copy without a writer still writes", "[p2pget][chunk-plan]")
{
	p2pget::DupBudget budget{1};
	ChunkPlan plan(1, 3, &budget);
	auto a = plan.add_peer(), b = plan.add_peer(), c = plan.add_peer();
	REQUIRE(must(plan.assign(a, 0, true)).mode == Mode::Write);
	REQUIRE(must(plan.assign(b, 1, true)).mode == Mode::Buffer);
	CHECK(budget.free == 0);
	CHECK_FALSE(plan.assign(c, 5, true)); // would be a second buffer
	plan.failed(a, 0);                     // the writer is gone; b's copy goes on
	CHECK(plan.copies(0) == 1);
	CHECK(must(plan.assign(c, 5, true)).mode == Mode::Write);
	CHECK(plan.writing(c, 0));
	CHECK(budget.free == 0);
	REQUIRE(plan.verified(c, 0));
	CHECK(budget.free == 1);
}

TEST_CASE("copies: the minimum age follows the chunk times the plan saw", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto a = plan.add_peer(), b = plan.add_peer();
	CHECK(plan.min_copy_age() == ChunkPlan::kMinCopyAge); // nothing seen yet
	REQUIRE(must(plan.assign(a, 10.0, true)).chunk == 0);
	REQUIRE(must(plan.assign(b, 10.0, true)).chunk == 1);
	plan.received(a, 0, 12.0); // 2 s
	CHECK(plan.min_copy_age() == Approx(6.0));
	REQUIRE(plan.verified(a, 0));
	REQUIRE(must(plan.assign(a, 12.0, true)).chunk == 2);
	plan.received(a, 2, 19.0); // 7 s: the average moves a fifth of the way
	CHECK(plan.min_copy_age() == Approx(3 * (0.8 * 2 + 0.2 * 7)));
	REQUIRE(plan.verified(a, 2));
	// Endgame: b's chunk 1 has waited 9 s at t = 19, the minimum is 9 s.
	CHECK_FALSE(plan.assign(a, 18.9, true));
	CHECK(must(plan.assign(a, 19.1, true)).chunk == 1);
	// A sample for a copy not in flight is stale and ignored.
	plan.received(a, 0, 100.0);
	CHECK(plan.min_copy_age() == Approx(9.0));
	// Fast chunks: never below the floor.
	ChunkPlan quick(1);
	auto q = quick.add_peer();
	REQUIRE(quick.next(q, 0) == 0u);
	quick.received(q, 0, 0.01);
	CHECK(quick.min_copy_age() == ChunkPlan::kMinCopyAge);
}
