// The lines p2pget prints for people: the progress line fitted to a width,
// and the summary of a verified file.
#include "p2pget/report.h"

#include <catch2/catch.hpp>

using namespace p2pget;

namespace {

Progress sample(std::size_t files, std::size_t done)
{
	Progress p;
	p.files = files;
	p.files_done = done;
	p.total = 300ull << 20;
	p.done = 100ull << 20;
	p.received = 100ull << 20;
	p.peers = 3;
	p.elapsed = 2.0;
	p.current = "models/ünïcode-weights.bin";
	return p;
}

} // namespace

TEST_CASE("columns: one per UTF-8 character", "[p2pget][report]")
{
	CHECK(columns("") == 0);
	CHECK(columns("abc") == 3);
	CHECK(columns("ünïcode") == 7);
	CHECK(columns("こんにちは") == 5);
}

TEST_CASE("progress line: every field when wide, names the file when several", "[p2pget][report]")
{
	auto line = progress_line(sample(3, 1), 200);
	CHECK(line.find(" 33%") == 0);
	CHECK(line.find("100.0 MiB / 300.0 MiB") != std::string::npos);
	CHECK(line.find("50.0 MiB/s") != std::string::npos);
	CHECK(line.find("3 peers") != std::string::npos);
	CHECK(line.find("ETA 0:04") != std::string::npos);
	CHECK(line.find("[1/3 files]") != std::string::npos);
	CHECK(line.find("models/ünïcode-weights.bin") != std::string::npos);
	CHECK(progress_line(sample(1, 0), 200).find("files") == std::string::npos);
}

TEST_CASE("progress line: never as wide as the terminal, fields dropped from the right", "[p2pget][report]")
{
	for (std::size_t width = 1; width <= 120; width++) {
		auto line = progress_line(sample(3, 1), width);
		INFO(width << ": " << line);
		CHECK(columns(line) < std::max<std::size_t>(width, 2));
		if (width >= 10)
			CHECK(line.find("33%") != std::string::npos);
	}
	auto narrow = progress_line(sample(3, 1), 50);
	CHECK(narrow.find("files") == std::string::npos);
	CHECK(narrow.find("MiB/s") != std::string::npos);
}

TEST_CASE("progress line: no peer count once every file is over", "[p2pget][report]")
{
	auto p = sample(2, 2);
	p.peers = 0;
	p.done = p.total;
	CHECK(progress_line(p, 200).find("peer") == std::string::npos);
	CHECK(progress_line(p, 200).find("100%") == 0);
}

TEST_CASE("summary: what was fetched, and what was already on disk", "[p2pget][report]")
{
	FileResult r;
	r.name = "big.iso";
	r.size = 300ull << 20;
	r.seconds = 2.0;
	r.fetched = 90ull << 20;
	r.resumed = 210ull << 20;
	CHECK(done_line(r) ==
	      "big.iso: 300.0 MiB in 2.00 s: 90.0 MiB fetched at 45.0 MiB/s, 210.0 MiB already on disk, verified");
	r.fetched = 0;
	r.resumed = r.size;
	CHECK(done_line(r) == "big.iso: 300.0 MiB in 2.00 s: nothing fetched, all already on disk, verified");
	r.fetched = r.size;
	r.resumed = 0;
	CHECK(done_line(r) == "big.iso: 300.0 MiB in 2.00 s (150.0 MiB/s), verified");
}
