// The chunk server's pure parts: which requests it answers (a partial
// source's unverified chunks included), manifest pages, the rate-limit
// bucket, and the counters' names.
#include "serve/serve-check.h"
#include "serve/serve-counters.h"
#include "serve/upload-limit.h"

#include <catch2/catch.hpp>

#include <vector>

namespace {

using p2p::ErrorCode;

// A 10-chunk file of 4-byte chunks, the last one 2 bytes.
struct Fixture {
	std::vector<p2p::Hash> hashes;
	std::vector<bool> verified;
	serve::ServedFile file;
	Fixture(std::vector<bool> have = {})
	{
		for (std::uint8_t i = 0; i < 10; i++)
			hashes.push_back(p2p::Hash{i});
		verified = std::move(have);
		file.size = 38;
		file.chunk_size = 4;
		file.content = p2p::Hash{42};
		file.chunk_hashes = hashes;
		file.verified = verified.empty() ? nullptr : &verified;
	}
	p2p::ChunkRequest req(std::uint64_t offset, std::uint32_t length) const
	{
		return {7, "f", file.content, offset, length};
	}
};

std::optional<ErrorCode> code_of(const std::optional<serve::Refusal>& r)
{
	return r ? std::optional<ErrorCode>(r->code) : std::nullopt;
}

} // namespace

TEST_CASE("serve: a whole file serves any range inside it", "[serve][check]")
{
	Fixture f;
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(0, 38)));
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(37, 1)));
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(38, 0)));
	CHECK(code_of(serve::check_chunk(&f.file, f.req(38, 1))) == ErrorCode::BadRange);
	CHECK(code_of(serve::check_chunk(&f.file, f.req(30, 9))) == ErrorCode::BadRange);
	CHECK(code_of(serve::check_chunk(&f.file, f.req(1ull << 63, 1))) == ErrorCode::BadRange);
}

TEST_CASE("serve: the checks come in order: not here, other version, range", "[serve][check]")
{
	Fixture f;
	CHECK(code_of(serve::check_chunk(nullptr, f.req(0, 4))) == ErrorCode::NotFound);
	auto other = f.req(0, 4);
	other.content_hash[0] ^= 1;
	other.offset = 1000; // a bad range too: the version is checked first
	CHECK(code_of(serve::check_chunk(&f.file, other)) == ErrorCode::Changed);
	// Longer than 16 MiB: BadRange, the request alone (its id is the ref).
	Fixture big;
	big.file.size = 64u << 20;
	auto r = serve::check_chunk(&big.file, big.req(0, p2p::kMaxChunkLength + 1));
	CHECK(code_of(r) == ErrorCode::BadRange);
	CHECK_FALSE(serve::check_chunk(&big.file, big.req(0, p2p::kMaxChunkLength)));
}

TEST_CASE("serve: a partial source serves only ranges wholly in verified chunks", "[serve][check][partial]")
{
	//                 0     1      2     3      4     5      6     7     8      9
	Fixture f({true, false, true, true, false, false, false, false, false, true});
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(0, 4)));    // chunk 0
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(8, 8)));    // chunks 2-3
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(9, 3)));    // inside chunk 2
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(36, 2)));   // the short last chunk
	CHECK_FALSE(serve::check_chunk(&f.file, f.req(4, 0)));    // no bytes, no chunk
	auto unverified = serve::check_chunk(&f.file, f.req(4, 4)); // chunk 1
	REQUIRE(unverified);
	CHECK(unverified->code == ErrorCode::NotFound);
	CHECK(unverified->text.find("not verified") != std::string::npos);
	CHECK(code_of(serve::check_chunk(&f.file, f.req(3, 2))) == ErrorCode::NotFound);  // 1 byte into chunk 1
	CHECK(code_of(serve::check_chunk(&f.file, f.req(12, 5))) == ErrorCode::NotFound); // 1 byte into chunk 4
	CHECK(code_of(serve::check_chunk(&f.file, f.req(0, 38))) == ErrorCode::NotFound);
	// Outside the file stays BadRange, verified or not.
	CHECK(code_of(serve::check_chunk(&f.file, f.req(36, 3))) == ErrorCode::BadRange);
}

TEST_CASE("serve: range_verified on odd inputs", "[serve][check][partial]")
{
	Fixture f({true, true}); // a bitmap shorter than the file: the rest is not verified
	CHECK(serve::range_verified(f.file, 0, 8));
	CHECK_FALSE(serve::range_verified(f.file, 0, 9));
	f.file.chunk_size = 0; // nonsense from a source: nothing is served
	CHECK_FALSE(serve::range_verified(f.file, 0, 1));
	Fixture whole;
	whole.file.chunk_size = 0; // no bitmap: chunk size is not needed
	CHECK(serve::range_verified(whole.file, 0, 38));
	CHECK_FALSE(serve::range_verified(whole.file, 0, 39));
}

TEST_CASE("serve: manifest requests and pages", "[serve][check][manifest]")
{
	Fixture f;
	CHECK(code_of(serve::check_manifest(nullptr, {"f", 0})) == ErrorCode::NotFound);
	CHECK_FALSE(serve::check_manifest(&f.file, {"f", 0}));
	CHECK_FALSE(serve::check_manifest(&f.file, {"f", 9}));
	CHECK(code_of(serve::check_manifest(&f.file, {"f", 10})) == ErrorCode::BadRange);
	CHECK(code_of(serve::check_manifest(&f.file, {"f", 11})) == ErrorCode::BadRange);

	auto m = serve::manifest_page(f.file, {"f", 7});
	CHECK(m.name == "f");
	CHECK(m.size == 38);
	CHECK(m.chunk_size == 4);
	CHECK(m.content_hash == f.file.content);
	CHECK(m.chunk_count == 10);
	CHECK(m.first_chunk == 7);
	CHECK(m.chunk_hashes == std::vector<p2p::Hash>(f.hashes.begin() + 7, f.hashes.end()));

	// A partial holder knows every hash: its manifest is whole.
	Fixture partial({true});
	CHECK(serve::manifest_page(partial.file, {"f", 0}).chunk_hashes == partial.hashes);

	// An empty file: chunk 0 of 0 is a valid (empty) page.
	Fixture empty;
	empty.file.size = 0;
	empty.file.chunk_hashes = {};
	CHECK_FALSE(serve::check_manifest(&empty.file, {"f", 0}));
	CHECK(serve::manifest_page(empty.file, {"f", 0}).chunk_hashes.empty());
	CHECK(code_of(serve::check_manifest(&empty.file, {"f", 1})) == ErrorCode::BadRange);
}

TEST_CASE("serve: manifest pages hold at most kMaxManifestPage hashes", "[serve][check][manifest]")
{
	std::vector<p2p::Hash> many(p2p::kMaxManifestPage + 5);
	serve::ServedFile f;
	f.size = std::uint64_t{many.size()} * p2p::kChunkSize;
	f.chunk_hashes = many;
	CHECK(serve::manifest_page(f, {"f", 0}).chunk_hashes.size() == p2p::kMaxManifestPage);
	auto last = serve::manifest_page(f, {"f", p2p::kMaxManifestPage});
	CHECK(last.chunk_hashes.size() == 5);
	CHECK(last.chunk_count == p2p::kMaxManifestPage + 5);
}

TEST_CASE("serve: the rate-limit bucket holds a tick, pieces stay between 1 KiB and 256 KiB",
          "[serve][rate]")
{
	auto one_meg = serve::plan_bucket(1u << 20);
	CHECK(one_meg.tick_seconds == Approx(0.1));
	CHECK(one_meg.per_tick == (1u << 20) / 10);
	CHECK(one_meg.piece == (1u << 20) / 10);
	CHECK(serve::plan_bucket(1000).piece == 1024);
	CHECK(serve::plan_bucket(1000).per_tick == 100);
	CHECK(serve::plan_bucket(1).per_tick == 1);
	CHECK(serve::plan_bucket(1ull << 30).piece == 256 * 1024);
}

TEST_CASE("serve: counters by name, in a fixed order", "[serve][counters]")
{
	serve::Counters c;
	c.bytes_served = 5;
	c.files_busy = 2;
	std::vector<std::string> names;
	for (auto& [name, v] : c.pairs())
		names.push_back(name);
	CHECK(names == std::vector<std::string>{"connections", "connections_refused", "idle_closed", "manifest_requests",
	                                        "chunk_requests", "chunks_served", "bytes_served", "errors_not_found",
	                                        "errors_changed", "errors_bad_range", "errors_protocol", "bad_frames",
	                                        "bad_macs", "frame_timeouts", "files_busy", "chunks_taken"});
	CHECK(c.pairs()[6].second == 5);
	auto refusals = c.refusal_pairs();
	REQUIRE(refusals.size() == 6);
	CHECK(refusals.back() == std::pair<std::string, std::uint64_t>{"files_busy", 2});
}

TEST_CASE("serve: the chunk a request starts, if it starts one", "[serve][spare]")
{
	CHECK(serve::chunk_starting_at(0) == 0u);
	CHECK(serve::chunk_starting_at(3ull * p2p::kChunkSize) == 3u);
	CHECK_FALSE(serve::chunk_starting_at(p2p::kChunkSize + 1));
	CHECK(serve::chunk_starting_at(std::uint64_t{UINT32_MAX} * p2p::kChunkSize) == UINT32_MAX);
	CHECK_FALSE(serve::chunk_starting_at((std::uint64_t{UINT32_MAX} + 1) * p2p::kChunkSize));
}
