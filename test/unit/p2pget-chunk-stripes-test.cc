// Stripes: downloaders that know the same set of each other split the
// chunks only the seed has without a word, and a downloader going away
// moves only its own chunks. Then the plan: a spare seed is asked for our
// stripe first, then for the late part of another's.
#include "../../src/p2pget/chunk-plan.h"
#include "../../src/p2pget/chunk-stripes.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

using p2pget::ChunkPlan;
using p2pget::ChunkStripes;

namespace {

std::vector<std::uint32_t> identity_rank(std::uint32_t n)
{
	std::vector<std::uint32_t> r(n);
	std::iota(r.begin(), r.end(), 0u);
	return r;
}

std::uint64_t key(std::uint8_t host)
{
	std::array<std::uint8_t, 16> ip{};
	ip[10] = ip[11] = 0xff;
	ip[12] = 10, ip[15] = host;
	return p2pget::stripe_key(ip, 7001);
}

// Each downloader's view of the same set of keys.
std::vector<ChunkStripes> views(std::uint32_t chunks, const std::vector<std::uint64_t>& keys)
{
	std::vector<ChunkStripes> v;
	for (auto self : keys) {
		v.emplace_back(identity_rank(chunks), self);
		for (auto k : keys)
			v.back().add(k);
	}
	return v;
}

// How many views own each chunk.
std::vector<int> owners(std::uint32_t chunks, const std::vector<ChunkStripes>& v)
{
	std::vector<int> n(chunks, 0);
	for (auto& s : v)
		for (std::uint32_t c = 0; c < chunks; c++)
			n[c] += s.owns(c) ? 1 : 0;
	return n;
}

} // namespace

TEST_CASE("stripes: the same set of downloaders splits every chunk exactly once", "[p2pget][stripes]")
{
	std::vector<std::uint64_t> keys;
	for (std::uint8_t h = 3; h < 19; h++)
		keys.push_back(key(h));
	auto v = views(1024, keys);
	for (int n : owners(1024, v))
		CHECK(n == 1);
	for (auto& s : v) {
		CHECK(s.others() == 15);
		// 64 each on average; rendezvous hashing keeps every share near it.
		std::uint32_t mine = 0;
		for (std::uint32_t c = 0; c < 1024; c++)
			mine += s.owns(c) ? 1 : 0;
		CHECK(mine > 30);
		CHECK(mine < 110);
	}
}

TEST_CASE("stripes: a downloader gone hands on only its own chunks", "[p2pget][stripes]")
{
	std::vector<std::uint64_t> keys{key(3), key(4), key(5), key(6)};
	auto v = views(256, keys);
	std::vector<std::set<std::uint32_t>> before(keys.size());
	for (std::size_t i = 0; i < keys.size(); i++)
		for (std::uint32_t c = 0; c < 256; c++)
			if (v[i].owns(c))
				before[i].insert(c);
	for (std::size_t i = 0; i < 3; i++)
		v[i].remove(keys[3]);
	v.pop_back();
	for (int n : owners(256, v))
		CHECK(n == 1);
	for (std::size_t i = 0; i < 3; i++)
		for (auto c : before[i])
			CHECK(v[i].owns(c)); // kept what it had
	v[0].remove(keys[3]);        // twice, or a stranger: nothing changes
	v[0].add(keys[0]);           // our own key is not another downloader
	CHECK(v[0].others() == 2);
}

TEST_CASE("stripes: a spare seed is asked for our stripe, then for the late half of another's",
          "[p2pget][chunk-plan][stripes]")
{
	constexpr std::uint32_t n = 64;
	ChunkPlan plan(n, 2, nullptr, 7);
	plan.set_spare_seeds(true);
	auto seed = plan.add_peer();
	auto other = plan.add_peer(std::vector<bool>(n, false), key(4));
	plan.set_self_key(key(3));
	REQUIRE(plan.stripes());
	std::vector<std::uint32_t> asked;
	while (auto c = plan.next(seed, 0, false))
		asked.push_back(*c);
	std::uint32_t mine = 0;
	for (std::uint32_t c = 0; c < n; c++)
		mine += plan.stripes()->owns(c) ? 1 : 0;
	REQUIRE(mine > 0);
	REQUIRE(mine < n - 2);
	// Ours, every one, before any of the other's.
	for (std::uint32_t i = 0; i < asked.size(); i++)
		CHECK(plan.stripes()->owns(asked[i]) == (i < mine));
	// Then the other's, but never the last one it has left: it is asking
	// the seed for that one itself.
	CHECK(asked.size() == n - 1);
	std::set<std::uint32_t> left;
	for (std::uint32_t c = 0; c < n; c++)
		if (plan.is_queued(c))
			left.insert(c);
	REQUIRE(left.size() == 1);
	CHECK_FALSE(plan.stripes()->owns(*left.begin()));

	// The seed waits for news, or for the patience once idle.
	CHECK_FALSE(plan.wake_at(0));

	SECTION("the other gone: its last chunk is ours too")
	{
		plan.drop_peer(other);
		CHECK(plan.next(seed, 1, false) == *left.begin());
	}
	SECTION("the other busy with the seed: its last one is taken too, not waited for")
	{
		plan.claim(other, asked.back(), 10); // it fetches another from the seed
		CHECK(plan.next(seed, 1, false) == *left.begin());
	}
	SECTION("the other's claim run out: it may be idle again, so its last one is its own")
	{
		plan.claim(other, asked.back(), 10);
		CHECK_FALSE(plan.next(seed, 11, false));
	}
	SECTION("the other never fetching it (frozen): ours once we have idled for the patience")
	{
		CHECK_FALSE(plan.next(seed, 50, false)); // busy: it waits however long
		for (auto c : asked)
			REQUIRE(plan.verified(seed, c));
		CHECK_FALSE(plan.next(seed, 60, false)); // idle from now
		CHECK(plan.wake_at(60) == 60 + ChunkPlan::kStripePatience);
		CHECK_FALSE(plan.next(seed, 60 + ChunkPlan::kStripePatience / 2, false));
		CHECK(plan.next(seed, 60 + ChunkPlan::kStripePatience, false) == *left.begin());
	}
}

TEST_CASE("stripes: the owner takes its chunks in the order a thief takes them last", "[p2pget][stripes]")
{
	constexpr std::uint32_t n = 256;
	ChunkStripes owner(identity_rank(n), key(4)), thief(identity_rank(n), key(3));
	owner.add(key(3));
	thief.add(key(4));
	std::vector<std::uint32_t> owner_order;
	p2pget::ChunkSet theirs(n);
	for (std::uint32_t c = 0; c < n; c++)
		if (owner.owns(c))
			theirs.insert(c);
	// The owner's order over its own chunks.
	p2pget::ChunkSet rest = theirs;
	while (auto c = owner.pick(rest)) {
		owner_order.push_back(*c);
		rest.erase(*c);
	}
	REQUIRE(owner_order.size() == theirs.size());
	// The thief's first pick of them is from the later half of that order.
	auto stolen = thief.pick(theirs);
	REQUIRE(stolen);
	auto at = std::find(owner_order.begin(), owner_order.end(), *stolen) - owner_order.begin();
	CHECK(static_cast<std::size_t>(at) >= owner_order.size() / 2);
}

TEST_CASE("stripes: an owner busy with the seed has only later chunks open", "[p2pget][stripes]")
{
	constexpr std::uint32_t n = 256;
	ChunkStripes owner(identity_rank(n), key(4)), thief(identity_rank(n), key(3));
	owner.add(key(3));
	thief.add(key(4));
	p2pget::ChunkSet rest(n);
	for (std::uint32_t c = 0; c < n; c++)
		if (owner.owns(c))
			rest.insert(c);
	std::vector<std::uint32_t> order;
	while (auto c = owner.pick(rest)) {
		order.push_back(*c);
		rest.erase(*c);
	}
	REQUIRE(order.size() >= 4);
	// It fetches its first; its second is all it has left open.
	p2pget::ChunkSet open(n);
	open.insert(order[1]);
	CHECK_FALSE(thief.pick(open));                  // idle, it takes that one next
	CHECK(thief.pick(open, {key(4)}) == order[1]);  // busy: ours to take
	CHECK_FALSE(thief.pick(open, {key(9)}));        // another's business
	// Three left open behind the one it fetches: the later two are fair game.
	open.insert(order[2]);
	open.insert(order[3]);
	auto stolen = thief.pick(open, {key(4)});
	REQUIRE(stolen);
	CHECK(*stolen != order[1]);
}

TEST_CASE("stripes: a seed's \"taken\" waits for a HAVE, not counted as a retry", "[p2pget][chunk-plan][spare]")
{
	constexpr std::uint32_t n = 16;
	ChunkPlan plan(n, 2, nullptr, 3);
	plan.set_spare_seeds(true);
	auto seed = plan.add_peer();
	auto other = plan.add_peer(std::vector<bool>(n, false), key(4));
	auto a = plan.assign(seed, 0, true);
	REQUIRE(a);
	CHECK(a->spare); // a shared seed is asked spare
	plan.taken(seed, a->chunk, 5.0);
	CHECK(plan.is_queued(a->chunk));
	CHECK(plan.retries() == 0);
	CHECK(plan.in_flight(seed) == 0);
	CHECK(plan.availability(a->chunk) == 2); // the seed, and the one it went to
	CHECK(plan.wake_at(1.0) == 5.0);
	std::set<std::uint32_t> asked;
	while (auto c = plan.next(seed, 1.0, false))
		asked.insert(*c);
	CHECK(asked.count(a->chunk) == 0);

	SECTION("a HAVE from any downloader ends the wait: it is to be had there")
	{
		plan.peer_has(other, a->chunk);
		CHECK(plan.availability(a->chunk) == 2);
		CHECK(plan.claims() == 0);
		CHECK(plan.next(other, 1.0) == a->chunk);
	}
	SECTION("no HAVE by then: the seed is asked again")
	{
		for (auto c : asked)
			REQUIRE(plan.verified(seed, c));
		CHECK(plan.next(seed, 5.0, false) == a->chunk);
	}
	SECTION("a seed nobody shares is not asked spare")
	{
		plan.drop_peer(other);
		for (auto c : asked)
			plan.failed(seed, c);
		auto b = plan.assign(seed, 6.0, true);
		REQUIRE(b);
		CHECK_FALSE(b->spare);
	}
}
