// peerd's command line: defaults, every flag, and every usage error.
#include "../../src/peerd/options.h"

#include <catch2/catch.hpp>

#include <vector>

using peerd::ParsedOptions;

namespace {

ParsedOptions parse(std::vector<const char*> args, const char* env = nullptr)
{
	args.insert(args.begin(), "peerd");
	return peerd::parse_options(static_cast<int>(args.size()), args.data(), env);
}

} // namespace

TEST_CASE("peerd options: ID and port from DIR's last component", "[peerd][options]")
{
	auto p = parse({"-d", "./peers/3"});
	REQUIRE(p.action == ParsedOptions::Action::Run);
	CHECK(p.options.dir == "./peers/3");
	CHECK(p.options.id == 3);
	CHECK(p.options.port == 60003);
	CHECK(p.options.index.host == "127.0.0.1");
	CHECK(p.options.index.port == 60000);
	CHECK(p.options.rate_limit == 0);

	auto slash = parse({"-d", "peers/12/"});
	REQUIRE(slash.action == ParsedOptions::Action::Run);
	CHECK(slash.options.id == 12);
	CHECK(slash.options.port == 60012);
}

TEST_CASE("peerd options: -n, -p, -i, --rate-limit, -v", "[peerd][options]")
{
	auto p = parse({"-d", "share", "-n", "9", "-p", "7000", "-i", "[::1]:6000", "--rate-limit", "20M", "-vv"});
	REQUIRE(p.action == ParsedOptions::Action::Run);
	CHECK(p.options.id == 9);
	CHECK(p.options.port == 7000);
	CHECK(p.options.index.host == "::1");
	CHECK(p.options.index.port == 6000);
	CHECK(p.options.rate_limit == 20u << 20);
	CHECK(p.options.verbose == 2);

	auto joined = parse({"--dir=share", "--id=4", "--rate-limit=512K", "-dother"});
	REQUIRE(joined.action == ParsedOptions::Action::Run);
	CHECK(joined.options.dir == "other");
	CHECK(joined.options.port == 60004);
	CHECK(joined.options.rate_limit == 512u << 10);

	// -p alone is enough when DIR's name is not a number.
	auto port_only = parse({"-d", "/srv/share", "-p", "7001"});
	REQUIRE(port_only.action == ParsedOptions::Action::Run);
	CHECK(port_only.options.port == 7001);
}

TEST_CASE("peerd options: index from -i, else P2P_INDEX, else the default", "[peerd][options]")
{
	CHECK(parse({"-d", "1"}, "10.0.0.5:6100").options.index.host == "10.0.0.5");
	CHECK(parse({"-d", "1"}, "10.0.0.5:6100").options.index.port == 6100);
	CHECK(parse({"-d", "1"}, "10.0.0.5").options.index.port == 60000);
	CHECK(parse({"-d", "1", "-i", "127.0.0.2"}, "10.0.0.5:6100").options.index.host == "127.0.0.2");
	CHECK(parse({"-d", "1"}, "").options.index.host == "127.0.0.1");
	auto bad = parse({"-d", "1"}, "[::1");
	CHECK(bad.action == ParsedOptions::Action::Error);
	CHECK(bad.error.find("P2P_INDEX") != std::string::npos);
}

TEST_CASE("peerd options: help and version", "[peerd][options]")
{
	CHECK(parse({"-h"}).action == ParsedOptions::Action::Help);
	CHECK(parse({"--help", "-d"}).action == ParsedOptions::Action::Help);
	CHECK(parse({"-V"}).action == ParsedOptions::Action::Version);
	CHECK(std::string(peerd::usage_text()).find("--rate-limit") != std::string::npos);
}

TEST_CASE("peerd options: usage errors say what went wrong", "[peerd][options]")
{
	struct Case {
		std::vector<const char*> args;
		const char* says;
	};
	std::vector<Case> cases = {
		{{}, "-d DIR"},
		{{"-d"}, "option -d needs a value"},
		{{"-d", ""}, "needs a directory"},
		{{"-d", "peers/x"}, "not a peer ID"},
		{{"-d", "peers/5536"}, "not a peer ID"},
		{{"-d", "1", "-p", "0"}, "bad port"},
		{{"-d", "1", "-p", "65536"}, "bad port"},
		{{"-d", "1", "-p", "12ab"}, "bad port"},
		{{"-d", "x", "-n", "-3"}, "bad peer ID"},
		{{"-d", "1", "--rate-limit", "fast"}, "bad rate"},
		{{"-d", "1", "--rate-limit", "0"}, "bad rate"},
		{{"-d", "1", "--rate-limit"}, "option --rate-limit needs a value"},
		{{"-d", "1", "-i", "[::1"}, "bad index address"},
		{{"-d", "1", "--frobnicate"}, "unknown option"},
		{{"-d", "1", "extra"}, "unexpected argument"},
	};
	for (auto& c : cases) {
		auto p = parse(c.args);
		INFO("args: " << (c.args.empty() ? "(none)" : c.args.front()) << " ... -> " << p.error);
		CHECK(p.action == ParsedOptions::Action::Error);
		CHECK(p.error.find(c.says) != std::string::npos);
	}
}

TEST_CASE("peerd options: --secret-file", "[peerd][options][cluster]")
{
	CHECK(parse({"-d", "peers/1"}).options.secret_file.empty());
	auto p = parse({"-d", "peers/1", "--secret-file", "/etc/p2p/secret"});
	REQUIRE(p.action == ParsedOptions::Action::Run);
	CHECK(p.options.secret_file == "/etc/p2p/secret");
	auto joined = parse({"-d", "peers/1", "--secret-file=key"});
	REQUIRE(joined.action == ParsedOptions::Action::Run);
	CHECK(joined.options.secret_file == "key");
	auto missing = parse({"-d", "peers/1", "--secret-file"});
	CHECK(missing.action == ParsedOptions::Action::Error);
	CHECK(missing.error.find("--secret-file") != std::string::npos);
	CHECK(parse({"-d", "peers/1", "--secret-file="}).action == ParsedOptions::Action::Error);
	CHECK(std::string(peerd::usage_text()).find("--secret-file FILE") != std::string::npos);
}

TEST_CASE("peerd options: -vvv and -- as indexd and p2pget take them", "[peerd][options]")
{
	auto p = parse({"-vvv", "--dir", "peers/2", "--"});
	REQUIRE(p.action == ParsedOptions::Action::Run);
	CHECK(p.options.verbose == 3);
	CHECK(parse({"-d", "1", "--", "-v"}).error == "unexpected argument '-v' (try -h)");
	CHECK(parse({"-d", "1", "-vd"}).error == "option -v takes no value (try -h)");
}
