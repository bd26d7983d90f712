// Chunk maps, pure: the HAVE_REQUEST checks, the map's bits, and the small
// per-connection subscription list.
#include "serve/chunk-maps.h"

#include <catch2/catch.hpp>

#include <vector>

namespace {

using p2p::ErrorCode;

struct Fixture {
	std::vector<p2p::Hash> hashes = std::vector<p2p::Hash>(10);
	std::vector<bool> verified = std::vector<bool>(10, false);
	serve::ServedFile file;
	Fixture()
	{
		hashes[4][0] = 4;
		file.size = 38;
		file.chunk_size = 4;
		file.content[0] = 9;
		file.chunk_hashes = hashes;
		file.verified = &verified;
	}
};

} // namespace

TEST_CASE("chunk maps: HAVE_REQUEST is refused for another file or version", "[serve][maps]")
{
	Fixture fx;
	auto missing = serve::check_have(nullptr, {"f", 38, fx.file.content});
	REQUIRE(missing);
	CHECK(missing->code == ErrorCode::NotFound);
	p2p::Hash other = fx.file.content;
	other[1] = 1;
	CHECK(serve::check_have(&fx.file, {"f", 38, other})->code == ErrorCode::Changed);
	CHECK(serve::check_have(&fx.file, {"f", 37, fx.file.content})->code == ErrorCode::Changed);
	CHECK_FALSE(serve::check_have(&fx.file, {"f", 38, fx.file.content}));
}

TEST_CASE("chunk maps: the map has one bit per chunk, set when verified", "[serve][maps]")
{
	Fixture fx;
	fx.verified[0] = fx.verified[7] = fx.verified[9] = true;
	auto m = serve::have_map(fx.file, "f");
	CHECK(m.name == "f");
	CHECK(m.have == std::vector<bool>{true, false, false, false, false, false, false, true, false, true});
	fx.file.verified = nullptr; // a whole file: every bit
	CHECK(serve::have_map(fx.file, "f").have == std::vector<bool>(10, true));
	serve::ServedFile empty;
	CHECK(serve::have_map(empty, "e").have.empty());
}

TEST_CASE("chunk maps: one connection subscribes to a few names at most", "[serve][maps]")
{
	serve::HaveSubscriptions subs;
	p2p::Hash h{};
	for (std::size_t i = 0; i < serve::HaveSubscriptions::kMax; i++)
		CHECK(subs.add({"f" + std::to_string(i), 10, h}));
	CHECK_FALSE(subs.add({"one-more", 10, h}));
	CHECK(subs.wants("f0", 10, h));
	CHECK_FALSE(subs.wants("one-more", 10, h));
	CHECK(subs.add({"f3", 11, h})); // a name already there changes version
	CHECK(subs.wants("f3", 11, h));
	CHECK_FALSE(subs.wants("f3", 10, h));
	CHECK(subs.size() == serve::HaveSubscriptions::kMax);
}
