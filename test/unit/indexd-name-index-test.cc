// NameIndex against std::unordered_map: the same answers after any mix of
// inserts and erases, with a hash that puts every name in a few homes so
// that runs are long, wrap round the end of the array, and get shifted back.
#include "../../src/indexd/name-index.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <unordered_map>

namespace {

using Names = std::map<std::string, int>;

struct NameOf {
	std::string_view operator()(Names::iterator it) const { return it->first; }
};

// Three homes, so most names collide; one is the array's last slot at 16
// and at 32 slots, so runs wrap round.
struct CrowdedHash {
	std::size_t operator()(std::string_view s) const
	{
		static constexpr std::size_t homes[] = {31, 15, 1};
		return s.empty() ? 0 : homes[static_cast<unsigned char>(s.back()) % 3];
	}
};

template <class Hash>
void check_against_map(std::uint32_t seed, int steps, int distinct)
{
	Names names;
	indexd::NameIndex<Names::iterator, NameOf, Hash> index;
	std::unordered_map<std::string, Names::iterator> expected;
	std::mt19937 rng(seed);
	for (int step = 0; step < steps; step++) {
		std::string name = "f" + std::to_string(rng() % distinct);
		if (auto known = expected.find(name); known != expected.end()) {
			if (rng() % 2) {
				REQUIRE(index.erase(known->second->first));
				names.erase(known->second);
				expected.erase(known);
			}
		} else {
			auto it = names.emplace(name, step).first;
			index.insert(it->first, it);
			expected.emplace(name, it);
		}
		REQUIRE(index.size() == expected.size());
		for (int probe = 0; probe < 4; probe++) {
			std::string q = "f" + std::to_string(rng() % distinct);
			auto want = expected.find(q);
			auto got = index.find(q);
			REQUIRE((got != nullptr) == (want != expected.end()));
			if (got)
				REQUIRE(*got == want->second);
		}
	}
	for (auto& [name, it] : expected) {
		auto got = index.find(name);
		REQUIRE(got);
		CHECK(*got == it);
	}
	CHECK(index.capacity() >= 2 * index.size());
}

} // namespace

TEST_CASE("name index: answers as a hash map does through inserts and erases", "[indexd][name-index]")
{
	check_against_map<std::hash<std::string_view>>(1, 20000, 3000);
}

TEST_CASE("name index: long colliding runs survive erases in their middle", "[indexd][name-index]")
{
	for (std::uint32_t seed = 1; seed <= 20; seed++)
		check_against_map<CrowdedHash>(seed, 400, 12);
}

TEST_CASE("name index: an empty index finds and erases nothing", "[indexd][name-index]")
{
	indexd::NameIndex<Names::iterator, NameOf> index;
	CHECK_FALSE(index.find("a"));
	CHECK_FALSE(index.erase("a"));
	Names names{{"a", 1}};
	index.insert("a", names.begin());
	CHECK_FALSE(index.find("b"));
	CHECK_FALSE(index.erase("b"));
	CHECK(index.erase("a"));
	CHECK_FALSE(index.find("a"));
	CHECK(index.size() == 0);
}

TEST_CASE("name index: a prefetch hint is the value under that hash, or none", "[indexd][name-index]")
{
	Names names{{"a", 1}, {"b", 2}};
	indexd::NameIndex<Names::iterator, NameOf> index;
	using Index = decltype(index);
	CHECK_FALSE(index.hint(Index::hash_of("a"))); // empty: no slots at all
	index.prefetch(Index::hash_of("a"));
	for (auto it = names.begin(); it != names.end(); ++it)
		index.insert(it->first, it);
	auto a = index.hint(Index::hash_of("a"));
	REQUIRE(a);
	CHECK((*a)->first == "a");
	CHECK_FALSE(index.hint(Index::hash_of("c")));
	// Names under one hash ("a", "d" and "g" here): the hint is the first
	// of them in the run, whatever name was asked; find() tells them apart.
	Names same{{"a", 1}, {"d", 2}};
	indexd::NameIndex<Names::iterator, NameOf, CrowdedHash> crowded;
	for (auto it = same.begin(); it != same.end(); ++it)
		crowded.insert(it->first, it);
	auto g = crowded.hint(decltype(crowded)::hash_of("g"));
	REQUIRE(g);
	CHECK((*g)->first == "a");
	CHECK_FALSE(crowded.find("g"));
}
