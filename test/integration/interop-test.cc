// A second implementation of p2p-protocol(7), in Python and written from the
// page alone (test/interop/), against the real indexd, peerd and p2pget:
// downloads both ways, in open and closed clusters, and the refusals the page
// prescribes. The runner starts and stops every process itself; this test
// only hands it the programs and requires that every check passed.
#include "fixtures.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace fixtures;

namespace {

// The runner sits beside this file's folder: test/interop/run.py (this
// file is compiled by its path from the top of the tree, where tests run).
fs::path runner()
{
	return fs::absolute(fs::path(__FILE__).parent_path().parent_path() / "interop" / "run.py");
}

} // namespace

TEST_CASE("the Python implementation of the page interoperates with indexd, peerd and p2pget", "[interop]")
{
	REQUIRE(fs::exists(runner()));
	std::string bin_dir = fs::absolute(fs::path(bin("indexd")).parent_path()).string();
	// A generous bound: the runner takes about 15 s and stops itself at 150 s.
	auto r = run({"/usr/bin/env", "python3", runner().string()}, {"P2P_BIN_DIR=" + bin_dir},
	             std::chrono::seconds(180));
	INFO("runner output:\n" << r.out << r.err);
	REQUIRE(r.status == 0);
}
