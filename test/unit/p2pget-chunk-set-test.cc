// The chunk plan's bitset: membership, the lowest member, and the lowest
// member two sets share, across word boundaries.
#include "../../src/p2pget/chunk-set.h"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

using p2pget::ChunkSet;

TEST_CASE("chunk set: a full set holds exactly [0, n)", "[p2pget][chunk-set]")
{
	for (std::uint32_t n : {0u, 1u, 63u, 64u, 65u, 130u}) {
		ChunkSet s(n, true);
		CHECK(s.size() == n);
		std::vector<std::uint32_t> all;
		s.for_each([&](std::uint32_t i) { all.push_back(i); });
		REQUIRE(all.size() == n);
		for (std::uint32_t i = 0; i < n; i++)
			CHECK(all[i] == i);
		CHECK(s.first() == (n ? std::optional<std::uint32_t>(0) : std::nullopt));
	}
	ChunkSet none;
	CHECK(none.empty());
	CHECK_FALSE(none.first());
}

TEST_CASE("chunk set: the lowest member follows erases and inserts below it", "[p2pget][chunk-set]")
{
	ChunkSet s(200);
	CHECK_FALSE(s.first());
	s.insert(150);
	s.insert(70);
	s.insert(70); // twice is once
	CHECK(s.size() == 2);
	CHECK(s.first() == 70u);
	s.erase(70);
	CHECK(s.first() == 150u);
	s.insert(3);
	CHECK(s.first() == 3u);
	s.erase(3);
	s.erase(3);
	s.erase(150);
	CHECK(s.empty());
	CHECK_FALSE(s.first());
	s.insert(199);
	CHECK(s.first() == 199u);
	s.clear();
	CHECK_FALSE(s.contains(199));
	CHECK_FALSE(s.first());
}

TEST_CASE("chunk set: the lowest member of two sets", "[p2pget][chunk-set]")
{
	ChunkSet a(300, true), b(300);
	CHECK_FALSE(a.first_in(b));
	b.insert(257);
	b.insert(130);
	CHECK(a.first_in(b) == 130u);
	a.erase(130);
	CHECK(a.first_in(b) == 257u);
	CHECK(b.first_in(a) == 257u);
	for (std::uint32_t i = 0; i < 300; i++)
		a.erase(i);
	CHECK_FALSE(a.first_in(b));
}

TEST_CASE("chunk set: random operations agree with std::set", "[p2pget][chunk-set]")
{
	std::uint32_t seed = 7;
	auto rnd = [&] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
	ChunkSet s(1000), mask(1000);
	std::set<std::uint32_t> ref, ref_mask;
	for (int step = 0; step < 20000; step++) {
		std::uint32_t i = rnd() % 1000;
		switch (rnd() % 3) {
		case 0: s.insert(i), ref.insert(i); break;
		case 1: s.erase(i), ref.erase(i); break;
		default: mask.insert(i), ref_mask.insert(i); break;
		}
		REQUIRE(s.size() == ref.size());
		REQUIRE(s.first() == (ref.empty() ? std::nullopt : std::optional<std::uint32_t>(*ref.begin())));
		std::optional<std::uint32_t> both;
		for (auto x : ref)
			if (ref_mask.count(x)) {
				both = x;
				break;
			}
		REQUIRE(s.first_in(mask) == both);
	}
}
