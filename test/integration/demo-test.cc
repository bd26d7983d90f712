// `make demo` as a new user runs it: it ends well, and it leaves its sample
// data in place so that the README's walkthrough (./peerd -d ./peers/1)
// runs next.
#include "fixtures.h"

#include <catch2/catch.hpp>

using namespace fixtures;

TEST_CASE("demo: downloads across three peers and keeps ./peers for the walkthrough", "[demo][integration]")
{
	TempDir data;
	std::vector<std::string> env{"BIN=" + fs::path(bin("indexd")).parent_path().string(),
	                             "DATA=" + data.path().string(), "MIB=4"};
	auto r = run({"tools/demo.sh"}, env, std::chrono::seconds(120));
	INFO(r.out << r.err);
	REQUIRE(r.status == 0);
	CHECK(r.out.find("every file is byte-identical to its source") != std::string::npos);
	for (int i = 1; i <= 3; i++)
		CHECK(fs::is_regular_file(data / ("peers/" + std::to_string(i) + "/sample.bin")));
	CHECK(fs::is_regular_file(data / "peers/3/only-here.txt"));

	// A second run uses the data it left.
	auto again = run({"tools/demo.sh"}, env, std::chrono::seconds(120));
	CHECK(again.status == 0);
	CHECK(again.out.find("from an earlier run") != std::string::npos);
}
