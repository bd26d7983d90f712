// What a downloading p2pget serves: only files it was given, only their
// verified chunks, only through its own duplicate of the download's
// descriptor (still good after the download closed its own).
#include "p2pget/serve-source.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

using p2pget::DownloadSource;

TEST_CASE("p2pget serve source: verified chunks of the downloads, from their own descriptor",
          "[p2pget][serve]")
{
	char path[] = "/tmp/p2pget-serve-source-XXXXXX";
	int fd = ::mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(::write(fd, "abcdefghij", 10) == 10);
	serve::Counters counters;
	DownloadSource src(counters, 15);
	p2p::Hash h{};
	h[0] = 1;
	REQUIRE(src.add("f", {10, h, 4, std::vector<p2p::Hash>(3)}, fd));
	::close(fd); // the download is gone; our duplicate is not
	::unlink(path);

	auto f = src.find("f");
	REQUIRE(f);
	CHECK(f->size == 10);
	CHECK(f->chunk_count() == 3);
	CHECK_FALSE(f->chunk_verified(0));
	CHECK(src.verify("f", 1));
	CHECK_FALSE(src.verify("f", 1)); // once
	CHECK_FALSE(src.verify("f", 3)); // no such chunk
	CHECK_FALSE(src.verify("g", 0)); // no such file
	CHECK(src.verified_count("f") == 1);
	f = src.find("f");
	CHECK(f->chunk_verified(1));
	CHECK_FALSE(f->chunk_verified(2));

	int served = src.open_file("f");
	REQUIRE(served >= 0);
	char buf[4] = {};
	CHECK(::pread(served, buf, 4, 4) == 4);
	CHECK(std::string(buf, 4) == "efgh");
	::close(served);

	src.complete("f");
	CHECK(src.find("f")->verified == nullptr); // every chunk
	CHECK(src.verified_count("f") == 3);
	CHECK_FALSE(src.find("g"));
	errno = 0;
	CHECK(src.open_file("g") == -1);
	CHECK(errno == ENOENT);
	src.remove("f");
	CHECK_FALSE(src.find("f"));
	CHECK(src.files() == 0);
	auto stats = src.stats();
	CHECK(stats.back() == std::pair<std::string, std::uint64_t>{"files_serving", 0});
}

TEST_CASE("p2pget serve source: chunks asked of a seed are listed until verified or stale", "[p2pget][serve]")
{
	char path[] = "/tmp/p2pget-serve-source-XXXXXX";
	int fd = ::mkstemp(path);
	REQUIRE(fd >= 0);
	::unlink(path);
	serve::Counters counters;
	DownloadSource src(counters, 15);
	REQUIRE(src.add("f", {10, p2p::Hash{}, 4, std::vector<p2p::Hash>(3)}, fd));
	::close(fd);
	using Chunks = std::vector<std::uint32_t>;

	src.fetch("f", 2, 100);
	src.fetch("f", 0, 101);
	src.fetch("f", 7, 101);  // no such chunk
	src.fetch("g", 1, 101);  // no such file
	CHECK(src.fetching("f", 102) == Chunks{0, 2});
	CHECK(src.fetching("g", 102).empty());
	CHECK(src.verify("f", 0));
	CHECK(src.fetching("f", 102) == Chunks{2});
	src.fetch("f", 0, 103); // verified already: nothing to wait for
	CHECK(src.fetching("f", 103) == Chunks{2});
	CHECK(src.fetching("f", 115).empty()); // 15 s later the fetch has failed
	src.fetch("f", 2, 116);                // asked again
	CHECK(src.fetching("f", 116) == Chunks{2});
	src.complete("f");
	CHECK(src.fetching("f", 116).empty());
}
