// make install: the programs, the man pages and the systemd units, with the
// units pointing at the installed programs (and, where systemd-analyze is
// at hand, units it accepts).
#include "fixtures.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

using namespace fixtures;

namespace {

std::string slurp(const fs::path& p)
{
	std::ifstream in(p);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

} // namespace

TEST_CASE("make install puts indexd.service and peerd@.service beside the programs", "[install][integration]")
{
	TempDir prefix;
	const char* san = std::getenv("P2P_SANITIZED");
	// A clean make: not the -j or variables of the make running this test.
	auto r = run({"/usr/bin/make", "--no-print-directory", "install", "PREFIX=" + prefix.path().string(),
	              std::string("SANITIZE=") + (san ? san : "")},
	             {"MAKEFLAGS=", "MFLAGS=", "MAKELEVEL="}, std::chrono::seconds(300));
	INFO(r.out << r.err);
	REQUIRE(r.status == 0);
	for (auto p : {"bin/indexd", "bin/peerd", "bin/p2pget", "share/man/man7/p2p-protocol.7", "share/man/man8/peerd.8"})
		CHECK(fs::exists(prefix / p));
	fs::path units = prefix / "lib/systemd/system";
	auto indexd = slurp(units / "indexd.service");
	auto peerd = slurp(units / "peerd@.service");
	CHECK(indexd.find("ExecStart=" + (prefix / "bin/indexd").string() + " ") != std::string::npos);
	CHECK(peerd.find("ExecStart=" + (prefix / "bin/peerd").string() + " -d ${PEERD_DIR} -n %i") != std::string::npos);
	CHECK(peerd.find("ExecReload=/bin/kill -HUP $MAINPID") != std::string::npos);
	for (auto* unit : {&indexd, &peerd}) {
		CHECK(unit->find("@BINDIR@") == std::string::npos);
		CHECK(unit->find("ProtectSystem=strict") != std::string::npos);
		CHECK(unit->find("NoNewPrivileges=yes") != std::string::npos);
	}
	CHECK(peerd.find("ReadWritePaths=") != std::string::npos);
	if (!fs::exists("/usr/bin/systemd-analyze")) {
		skip("no systemd-analyze to verify the units with");
		return;
	}
	fs::copy_file(units / "peerd@.service", units / "peerd@3.service");
	for (auto u : {"indexd.service", "peerd@3.service"}) {
		auto v = run({"/usr/bin/systemd-analyze", "verify", "--man=no", (units / u).string()});
		INFO(u << ": " << v.out << v.err);
		CHECK(v.status == 0);
	}
}
