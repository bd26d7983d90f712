// A file larger than 4 GiB through the whole system: 32-bit offsets or
// sizes anywhere on the way would show here. Sparse at the source; the
// copy is real, so the test needs ~5 GiB free and skips itself otherwise,
// and under the sanitizers (P2P_SANITIZED), where it would take minutes.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sys/statvfs.h>

using namespace p2pget_test;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kSize = (4ull << 30) + 3 * p2p::kChunkSize + 4321;

bool room_for(const fs::path& dir, std::uint64_t bytes)
{
	struct statvfs st;
	return ::statvfs(dir.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize > bytes;
}

} // namespace

TEST_CASE("p2pget: a file larger than 4 GiB arrives byte-identical", "[p2pget][integration][large]")
{
	if (const char* san = std::getenv("P2P_SANITIZED"); san && *san) {
		fixtures::skip("under the sanitizers moving 4 GiB takes minutes");
		return;
	}
	Cluster c;
	if (!room_for(c.root(), kSize + (1ull << 30))) {
		fixtures::skip("less than 5 GiB free under " + c.root().string());
		return;
	}
	fs::path src = c.peer_dir(0) / "huge.bin";
	fs::create_directories(src.parent_path());
	{
		// Sparse, with distinct bytes just below and above 4 GiB and at the end.
		std::ofstream out(src, std::ios::binary);
		const std::uint64_t marks[] = {(4ull << 30) - 3, (4ull << 30) + 5, kSize - 4};
		for (std::uint64_t at : marks) {
			out.seekp(static_cast<std::streamoff>(at));
			out.write("p2p!", 4);
		}
	}
	REQUIRE(fs::file_size(src) == kSize);
	c.start_peer();
	REQUIRE(c.wait_listed("huge.bin", 1, std::chrono::seconds(120)));
	auto r = c.get({"-q", "--json", "huge.bin"}, std::chrono::seconds(300));
	INFO(r.err);
	REQUIRE(r.status == 0);
	CHECK(json_number(r.out, "size") == kSize);
	CHECK(fs::file_size(c.out() / "huge.bin") == kSize);
	CHECK(fixtures::same_contents(c.out() / "huge.bin", src));
}
