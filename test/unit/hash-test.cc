#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <string>

static constexpr std::uint32_t kChunk = 2u << 20;

using namespace p2p;

TEST_CASE("BLAKE2b-256 matches the reference vector", "[hash]")
{
	REQUIRE(hash_init());
	// b2sum -l 256 of "abc"
	CHECK(to_hex(hash_bytes("abc", 3)) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("incremental hashing equals one-shot hashing", "[hash]")
{
	REQUIRE(hash_init());
	std::string data(100000, 'x');
	for (std::size_t i = 0; i < data.size(); i++)
		data[i] = static_cast<char>(i * 7);
	Hasher h;
	h.update(data.data(), 12345);
	h.update(data.data() + 12345, data.size() - 12345);
	CHECK(h.finish() == hash_bytes(data.data(), data.size()));
}

TEST_CASE("content hash is the hash of the chunk hashes", "[hash]")
{
	REQUIRE(hash_init());
	Hash a = hash_bytes("a", 1), b = hash_bytes("b", 1);
	std::array<Hash, 2> both{a, b};
	std::string joined(reinterpret_cast<const char*>(a.data()), 32);
	joined.append(reinterpret_cast<const char*>(b.data()), 32);
	CHECK(content_hash(both) == hash_bytes(joined.data(), joined.size()));
	CHECK(content_hash({}) == hash_bytes("", 0));
}

TEST_CASE("chunk counts round up and hex round-trips", "[hash]")
{
	CHECK(chunk_count(0, kChunk) == 0);
	CHECK(chunk_count(1, kChunk) == 1);
	CHECK(chunk_count(kChunk, kChunk) == 1);
	CHECK(chunk_count(kChunk + 1, kChunk) == 2);
	CHECK(chunk_count(5ull << 30, kChunk) == 2560);
	Hash h = hash_bytes("x", 1), back{};
	REQUIRE(from_hex(to_hex(h), back));
	CHECK(back == h);
	CHECK_FALSE(from_hex("zz", back));
}
