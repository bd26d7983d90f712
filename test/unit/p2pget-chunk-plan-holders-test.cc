// The chunk plan with holders that have only some chunks: a peer is only
// handed chunks it has, the rarest go first, random among equals with a
// seed, and availability follows holders learning chunks and going away.
#include "../../src/p2pget/chunk-plan.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

using p2pget::ChunkPlan;

namespace {

std::vector<bool> bits(std::initializer_list<int> have)
{
	std::vector<bool> v;
	for (int b : have)
		v.push_back(b != 0);
	return v;
}

// Every chunk a complete holder is handed from a fresh plan, in order.
std::vector<std::uint32_t> order(std::uint32_t n, std::optional<std::uint64_t> seed)
{
	ChunkPlan plan(n, 2, nullptr, seed);
	auto a = plan.add_peer();
	std::vector<std::uint32_t> got;
	while (auto c = plan.next(a, 0, false))
		got.push_back(*c);
	return got;
}

} // namespace

TEST_CASE("holders: the chunks the fewest live holders have go first", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(4);
	auto a = plan.add_peer();                   // every chunk
	auto b = plan.add_peer(bits({1, 1, 0, 0})); // the first two
	CHECK(plan.peer_complete(a));
	CHECK_FALSE(plan.peer_complete(b));
	CHECK(plan.availability(0) == 2);
	CHECK(plan.availability(3) == 1);
	CHECK(plan.next(a, 0) == 2u); // only a has 2 and 3
	CHECK(plan.next(b, 0) == 0u); // b has only 0 and 1
	CHECK(plan.next(a, 0) == 3u);
	CHECK(plan.next(a, 0) == 1u);
	CHECK_FALSE(plan.next(b, 0, false));
	CHECK(plan.queued() == 0);
}

TEST_CASE("holders: a peer is never handed a chunk it does not have", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto empty = plan.add_peer(bits({0, 0, 0}));
	auto one = plan.add_peer(bits({0, 1, 0}));
	CHECK_FALSE(plan.next(empty, 0));
	CHECK(plan.next(one, 0) == 1u);
	CHECK_FALSE(plan.next(one, 0));
	CHECK_FALSE(plan.endgame()); // 0 and 2 are still queued
	// Nobody has 0 or 2: the download cannot finish with these holders.
	CHECK(plan.unavailable() == 2);
	CHECK(plan.starved());
	CHECK(plan.live_peers() == 2);
}

TEST_CASE("holders: a holder learning a chunk is handed it, and it is less rare", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto a = plan.add_peer();
	auto b = plan.add_peer(bits({0, 0, 0}));
	CHECK_FALSE(plan.next(b, 0));
	plan.peer_has(b, 0);
	CHECK(plan.holds(b, 0));
	CHECK(plan.availability(0) == 2);
	CHECK(plan.next(a, 0) == 1u); // 0 is no longer among the rarest
	CHECK(plan.next(b, 0) == 0u);
	plan.peer_has(b, 0); // again: no change
	CHECK(plan.availability(0) == 2);
	CHECK_THROWS(plan.peer_has(b, 3));
	// Having them all makes it a complete holder; availability is the same.
	plan.peer_has(b, 1);
	plan.peer_has(b, 2);
	CHECK(plan.peer_complete(b));
	CHECK(plan.availability(1) == 2);
	CHECK(plan.availability(2) == 2);
	CHECK(plan.next(b, 0) == 2u);
}

TEST_CASE("holders: dropping a holder lowers the availability of what it had", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto a = plan.add_peer();
	plan.add_peer(bits({1, 0, 0}));
	auto c = plan.add_peer(bits({1, 1, 0}));
	CHECK(plan.availability(0) == 3);
	CHECK(plan.availability(1) == 2);
	plan.drop_peer(c);
	CHECK(plan.availability(0) == 2);
	CHECK(plan.availability(1) == 1);
	CHECK_FALSE(plan.holds(c, 1));
	// 1 and 2 are now equally rare: index order; 0 last.
	CHECK(plan.next(a, 0) == 1u);
	CHECK(plan.next(a, 0) == 2u);
	CHECK(plan.next(a, 0) == 0u);

	// The only holder of a chunk going away leaves it with none.
	ChunkPlan only(2);
	auto x = only.add_peer(bits({1, 0}));
	only.add_peer(bits({0, 1}));
	CHECK_FALSE(only.starved());
	only.drop_peer(x);
	CHECK(only.unavailable() == 1);
	CHECK(only.starved());
}

TEST_CASE("holders: a dropped holder's chunk in flight goes back for the others", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(3);
	auto a = plan.add_peer(bits({1, 1, 0}));
	auto b = plan.add_peer(bits({1, 1, 1}));
	CHECK(plan.peer_complete(b)); // a full bitfield is a complete holder
	REQUIRE(plan.next(b, 0) == 2u);
	REQUIRE(plan.next(a, 0) == 0u);
	CHECK(plan.drop_peer(a) == std::vector<std::uint32_t>{0});
	CHECK(plan.next(b, 1) == 0u);
	CHECK(plan.next(b, 1) == 1u);
	CHECK(plan.retries() == 1);
}

TEST_CASE("holders: a retry goes to the front among equals, not before rarer ones", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(4);
	auto a = plan.add_peer();
	auto b = plan.add_peer(bits({1, 1, 0, 0}));
	REQUIRE(plan.next(a, 0) == 2u);
	REQUIRE(plan.next(b, 0) == 0u);
	plan.failed(b, 0);
	CHECK(plan.next(a, 1) == 3u); // rarer than the retried 0
	CHECK(plan.next(a, 1) == 0u); // before 1, its equal
	CHECK(plan.next(a, 1) == 1u);
}

TEST_CASE("holders: a seed gives a random order among equals, the same for one seed", "[p2pget][chunk-plan]")
{
	auto plain = order(64, std::nullopt);
	std::vector<std::uint32_t> index(64);
	std::iota(index.begin(), index.end(), 0u);
	CHECK(plain == index); // today's order without a seed

	auto one = order(64, 1), again = order(64, 1), two = order(64, 2);
	CHECK(one == again);
	CHECK(one != two);
	CHECK(one != index);
	std::vector<std::uint32_t> sorted = one;
	std::sort(sorted.begin(), sorted.end());
	CHECK(sorted == index); // every chunk once

	// Rarest first still rules: with a seed, a takes the 32 chunks only it
	// has before any that b has too.
	std::vector<bool> low(64, false);
	std::fill(low.begin(), low.begin() + 32, true);
	ChunkPlan plan(64, 2, nullptr, 99);
	auto a = plan.add_peer();
	plan.add_peer(low);
	std::vector<std::uint32_t> first;
	for (int i = 0; i < 32; i++)
		first.push_back(*plan.next(a, 0));
	CHECK(std::all_of(first.begin(), first.end(), [](auto c) { return c >= 32; }));
	CHECK_FALSE(std::is_sorted(first.begin(), first.end()));
}

TEST_CASE("holders: endgame copies only come from an idle peer that has the chunk", "[p2pget][chunk-plan]")
{
	ChunkPlan plan(2);
	auto a = plan.add_peer();
	auto b = plan.add_peer(bits({1, 0}));
	REQUIRE(plan.next(a, 0) == 1u);
	REQUIRE(plan.next(b, 0) == 0u);
	REQUIRE(plan.verified(b, 0));
	CHECK(plan.endgame());
	CHECK_FALSE(plan.next(b, 10)); // a's chunk 1 is late, but b lacks it
	plan.peer_has(b, 1);
	CHECK(plan.next(b, 10) == 1u);
	CHECK(plan.copies(1) == 2);
}

TEST_CASE("holders: random schedules pick only held chunks, rarest first", "[p2pget][chunk-plan]")
{
	std::uint32_t seed = 4242;
	auto rnd = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
	for (int round = 0; round < 40; round++) {
		std::uint32_t n = 1 + rnd() % 60;
		p2pget::DupBudget budget{3};
		std::optional<ChunkPlan> plan;
		plan.emplace(n, 1 + rnd() % 3, &budget, round % 2 ? std::optional<std::uint64_t>(round) : std::nullopt);
		std::vector<ChunkPlan::PeerId> peers{plan->add_peer()}; // a complete seed, never dropped
		for (int i = 0; i < 3; i++) {
			std::vector<bool> have(n);
			for (std::uint32_t c = 0; c < n; c++)
				have[c] = rnd() % 3 == 0;
			peers.push_back(plan->add_peer(have));
		}
		std::vector<std::pair<ChunkPlan::PeerId, std::uint32_t>> flying;
		std::vector<int> wins(n, 0);
		for (int step = 0; step < 20000 && !plan->complete(); step++) {
			auto p = peers[rnd() % peers.size()];
			if (rnd() % 4 == 0)
				plan->peer_has(p, rnd() % n);
			if (plan->peer_live(p) && plan->in_flight(p) < 3) {
				// The rarest queued chunk p has, by brute force.
				std::optional<std::size_t> rarest;
				for (std::uint32_t c = 0; c < n; c++)
					if (plan->is_queued(c) && plan->holds(p, c))
						rarest = std::min(rarest.value_or(SIZE_MAX), plan->availability(c));
				auto a = plan->assign(p, step, rnd() % 2 == 0);
				if (a) {
					REQUIRE(plan->holds(p, a->chunk));
					if (rarest)
						REQUIRE(plan->availability(a->chunk) == *rarest);
					flying.emplace_back(p, a->chunk);
				} else {
					REQUIRE_FALSE(rarest);
				}
				REQUIRE(budget.free == 3 - static_cast<int>(plan->buffered()));
			}
			if (flying.empty())
				continue;
			auto idx = rnd() % flying.size();
			auto [fp, fc] = flying[idx];
			flying.erase(flying.begin() + static_cast<long>(idx));
			int what = rnd() % 20;
			if (what == 0 && fp != peers[0])
				plan->drop_peer(fp);
			else if (what == 1)
				plan->failed(fp, fc);
			else if (plan->verified(fp, fc))
				wins[fc]++;
		}
		REQUIRE(plan->complete());
		for (auto w : wins)
			CHECK(w == 1);
		CHECK(budget.free == 3);
	}
}

TEST_CASE("holders: 60,000 chunks from complete and partial holders", "[p2pget][chunk-plan]")
{
	// Big enough that a scan of every chunk per pick would take minutes.
	const std::uint32_t n = 60000;
	ChunkPlan plan(n, 2, nullptr, 7);
	std::vector<bool> even(n);
	for (std::uint32_t c = 0; c < n; c += 2)
		even[c] = true;
	std::vector<ChunkPlan::PeerId> peers{plan.add_peer(), plan.add_peer(), plan.add_peer(even)};
	std::uint32_t odd_from_partial = 0;
	for (std::size_t k = 0; !plan.complete(); k++) {
		auto p = peers[k % peers.size()];
		auto c = plan.next(p, 0, false);
		if (!c)
			continue;
		odd_from_partial += p == peers[2] && *c % 2 == 1;
		REQUIRE(plan.verified(p, *c));
	}
	CHECK(odd_from_partial == 0);
	CHECK(plan.done_count() == n);
}

TEST_CASE("holders: with other downloaders live, a seed is asked only for what none has or claimed",
          "[p2pget][chunk-plan][swarm]")
{
	ChunkPlan plan(4);
	plan.set_spare_seeds(true);
	auto seed = plan.add_peer();
	auto other = plan.add_peer(bits({1, 0, 0, 0})); // another downloader
	CHECK(plan.peer_seed(seed));
	CHECK_FALSE(plan.peer_seed(other));
	plan.claim(other, 1, 10.0); // it asked a seed for chunk 1

	// Chunk 0 comes from the downloader; the seed sends only 2 and 3.
	std::set<std::uint32_t> from_seed;
	while (auto c = plan.next(seed, 0, false))
		from_seed.insert(*c);
	CHECK(from_seed == std::set<std::uint32_t>{2, 3});
	CHECK(plan.next(other, 0, false) == 0u);
	CHECK(plan.is_queued(1)); // waits for the claimer's HAVE

	SECTION("the claimer's HAVE makes the chunk its to give")
	{
		plan.peer_has(other, 1);
		CHECK(plan.claims() == 0);
		CHECK(plan.next(seed, 1, false) == std::nullopt);
		CHECK(plan.next(other, 1, false) == 1u);
	}
	SECTION("a claim that outlives its time goes back to the seed")
	{
		// With no news at all (a frozen claimer), the time to look again.
		CHECK(plan.wake_at(5) == 10.0);
		CHECK(plan.next(seed, 9.9, false) == std::nullopt);
		CHECK(plan.next(seed, 10.0, false) == 1u);
		CHECK(plan.claims() == 0);
		CHECK_FALSE(plan.wake_at(10));
	}
	SECTION("a claimer dropped gives its claims back")
	{
		plan.drop_peer(other);
		CHECK(plan.claims() == 0);
		std::set<std::uint32_t> rest;
		while (auto c = plan.next(seed, 1, false))
			rest.insert(*c);
		CHECK(rest == std::set<std::uint32_t>{0, 1});
	}
}

TEST_CASE("holders: without other downloaders, or spare_seeds off, a seed is asked for anything",
          "[p2pget][chunk-plan][swarm]")
{
	for (bool spare : {false, true}) {
		ChunkPlan plan(3);
		plan.set_spare_seeds(spare);
		auto seed = plan.add_peer();
		auto other = plan.add_peer(bits({1, 1, 0}));
		if (spare)
			plan.drop_peer(other); // no downloader left: the seed is all there is
		std::set<std::uint32_t> got;
		while (auto c = plan.next(seed, 0, false))
			got.insert(*c);
		INFO("spare_seeds " << spare);
		CHECK(got == std::set<std::uint32_t>{0, 1, 2});
	}
}

TEST_CASE("holders: a downloader that completes is not spared like a seed", "[p2pget][chunk-plan][swarm]")
{
	ChunkPlan plan(2);
	plan.set_spare_seeds(true);
	auto seed = plan.add_peer();
	auto other = plan.add_peer(bits({1, 0}));
	plan.peer_has(other, 1); // now complete, still a downloader
	CHECK(plan.peer_complete(other));
	CHECK_FALSE(plan.peer_seed(other));
	CHECK(plan.next(seed, 0, false) == std::nullopt);
	CHECK(plan.next(other, 0, false).has_value());
	CHECK(plan.next(other, 0, false).has_value());
}
