// p2pget's command line: every flag, P2P_INDEX, refused names, errors.
#include "../../src/p2pget/options.h"

#include <catch2/catch.hpp>

using namespace p2pget;

namespace {

ParseResult parse(std::vector<const char*> args, const char* env = nullptr)
{
	args.insert(args.begin(), "p2pget");
	return parse_options(static_cast<int>(args.size()), args.data(), env);
}

} // namespace

TEST_CASE("p2pget options: defaults", "[p2pget][options]")
{
	auto r = parse({"a.txt"});
	REQUIRE(r.options);
	CHECK(r.options->mode == Mode::Download);
	CHECK(r.options->index.host == "127.0.0.1");
	CHECK(r.options->index.port == 60000);
	CHECK(r.options->out_dir == ".");
	CHECK(r.options->timeout == 15.0);
	CHECK_FALSE(r.options->quiet);
	CHECK_FALSE(r.options->json);
	CHECK(r.options->names == std::vector<std::string>{"a.txt"});
}

TEST_CASE("p2pget options: every flag", "[p2pget][options]")
{
	auto r = parse({"-i", "10.0.0.1:7000", "-o", "out", "-t", "2.5", "-q", "--json", "-v", "x", "sub/ü.bin", "x"});
	REQUIRE(r.options);
	auto& o = *r.options;
	CHECK(o.index.host == "10.0.0.1");
	CHECK(o.index.port == 7000);
	CHECK(o.out_dir == "out");
	CHECK(o.timeout == 2.5);
	CHECK(o.quiet);
	CHECK(o.json);
	CHECK(o.verbose == 1);
	CHECK(o.names == std::vector<std::string>{"x", "sub/ü.bin"}); // duplicates once

	auto l = parse({"--index=[::1]:6001", "--output=d", "--timeout=1", "-tz"});
	CHECK_FALSE(l.options);
	auto m = parse({"--index=[::1]:6001", "-od", "-t1", "n"});
	REQUIRE(m.options);
	CHECK(m.options->index.host == "::1");
	CHECK(m.options->index.port == 6001);
	CHECK(m.options->out_dir == "d");
	CHECK(m.options->timeout == 1.0);
}

TEST_CASE("p2pget options: P2P_INDEX, overridden by -i", "[p2pget][options]")
{
	auto r = parse({"n"}, "192.168.1.5");
	REQUIRE(r.options);
	CHECK(r.options->index.host == "192.168.1.5");
	CHECK(r.options->index.port == 60000);
	auto s = parse({"-i", "127.0.0.2:9", "n"}, "192.168.1.5");
	REQUIRE(s.options);
	CHECK(s.options->index.host == "127.0.0.2");
	CHECK(s.options->index.port == 9);
	CHECK_FALSE(parse({"n"}, "[::1").options);
}

TEST_CASE("p2pget options: --list and --lookup", "[p2pget][options]")
{
	auto l = parse({"--list", "--json"});
	REQUIRE(l.options);
	CHECK(l.options->mode == Mode::List);
	CHECK(l.options->json);
	auto k = parse({"--lookup", "a/b.txt"});
	REQUIRE(k.options);
	CHECK(k.options->mode == Mode::Lookup);
	CHECK(k.options->names == std::vector<std::string>{"a/b.txt"});
	CHECK_FALSE(parse({"--list", "x", "y"}).options);
	auto under = parse({"--list", "models/"});
	REQUIRE(under.options);
	CHECK(under.options->prefix == "models");
	CHECK_FALSE(parse({"--list", "../x"}).options);
	CHECK_FALSE(parse({"--lookup", "x", "y"}).options);
	CHECK_FALSE(parse({"--list", "--lookup", "x"}).options);
	CHECK_FALSE(parse({"--lookup", "../x"}).options);
}

TEST_CASE("p2pget options: help and version", "[p2pget][options]")
{
	CHECK(parse({"-h"}).options->mode == Mode::Help);
	CHECK(parse({"--help", "--bogus"}).options->mode == Mode::Help);
	CHECK(parse({"-V"}).options->mode == Mode::Version);
	CHECK(std::string(usage_text()).find("--lookup") != std::string::npos);
}

TEST_CASE("p2pget options: usage errors", "[p2pget][options]")
{
	for (auto args : std::vector<std::vector<const char*>>{
		     {},
		     {"-t", "0", "n"},
		     {"-t", "-1", "n"},
		     {"-t", "abc", "n"},
		     {"-t"},
		     {"-i", "", "n"},
		     {"-i", "host:99999", "n"},
		     {"-o", "", "n"},
		     {"--frobnicate", "n"},
		     {"-qv", "n"},
		     {"--json=yes", "n"},
	     }) {
		auto r = parse(args);
		CHECK_FALSE(r.options);
		CHECK_FALSE(r.error.empty());
	}
}

TEST_CASE("p2pget options: refused names", "[p2pget][options]")
{
	for (auto name : {"/etc/passwd", "../x", "a/../b", ".hidden", "a/.b", "a//b", ""}) {
		auto r = parse({name});
		CHECK_FALSE(r.options);
		CHECK(r.error.find("refusing name") != std::string::npos);
	}
	auto dash = parse({"--", "-odd-name"});
	REQUIRE(dash.options);
	CHECK(dash.options->names == std::vector<std::string>{"-odd-name"});
}

TEST_CASE("p2pget options: --secret-file and P2P_SECRET_FILE", "[p2pget][options]")
{
	auto secret = [](std::vector<const char*> args, const char* env) {
		args.insert(args.begin(), "p2pget");
		return parse_options(static_cast<int>(args.size()), args.data(), nullptr, env);
	};
	CHECK(parse({"a"}).options->secret_file.empty());
	CHECK(secret({"a"}, "").options->secret_file.empty());
	CHECK(secret({"a"}, "/etc/p2p/env").options->secret_file == "/etc/p2p/env");
	CHECK(secret({"--secret-file", "k", "a"}, "/etc/p2p/env").options->secret_file == "k");
	CHECK(secret({"--secret-file=k2", "--list"}, nullptr).options->secret_file == "k2");
	auto lookup = secret({"--lookup", "a", "--secret-file", "k"}, nullptr);
	REQUIRE(lookup.options);
	CHECK(lookup.options->mode == Mode::Lookup);
	CHECK(lookup.options->secret_file == "k");
	CHECK(parse({"a", "--secret-file"}).error == "option --secret-file needs a value");
	CHECK(parse({"--secret-file=", "a"}).error == "option --secret-file needs a file");
	CHECK(std::string(usage_text()).find("--secret-file FILE") != std::string::npos);
}

TEST_CASE("p2pget options: -vv and -qq as indexd and peerd take them", "[p2pget][options]")
{
	auto r = parse({"-vv", "-qq", "n", "-v"});
	REQUIRE(r.options);
	CHECK(r.options->verbose == 3);
	CHECK(r.options->quiet);
	CHECK(parse({"-qv", "n"}).error == "option -q takes no value");
	CHECK(parse({"--json=yes", "n"}).error == "option --json takes no value");
}

TEST_CASE("p2pget options: folders by -r or a trailing slash", "[p2pget][options]")
{
	auto r = parse({"-r", "models", "data/"});
	REQUIRE(r.options);
	CHECK(r.options->folders == std::vector<std::string>{"models", "data"});
	CHECK(r.options->names.empty());
	auto mixed = parse({"a.txt", "tree/", "tree//"});
	REQUIRE(mixed.options);
	CHECK(mixed.options->names == std::vector<std::string>{"a.txt"});
	CHECK(mixed.options->folders == std::vector<std::string>{"tree"});
	CHECK_FALSE(parse({"-r", "../up"}).options);
	CHECK(parse({"-r", ".hidden/"}).error.find("refusing folder") != std::string::npos);
}

TEST_CASE("p2pget options: serving flags", "[p2pget][options][serve]")
{
	auto d = parse({"a"});
	REQUIRE(d.options);
	CHECK(d.options->serve);
	CHECK(d.options->serve_port == 0);
	CHECK(d.options->upload_limit == 0);
	CHECK(d.options->seed_time == 30.0);
	CHECK(d.options->identity_file.empty());

	auto r = parse({"--no-serve", "--serve-port", "7100", "--upload-limit", "20M", "--seed-time", "2.5",
	                "--identity", "id.key", "a"});
	REQUIRE(r.options);
	CHECK_FALSE(r.options->serve);
	CHECK(r.options->serve_port == 7100);
	CHECK(r.options->upload_limit == 20u * 1024 * 1024);
	CHECK(r.options->seed_time == 2.5);
	CHECK(r.options->identity_file == "id.key");
	CHECK(parse({"--seed-time", "0", "a"}).options->seed_time == 0.0);

	CHECK(parse({"--serve-port", "0", "a"}).error == "bad port '0' (1-65535)");
	CHECK(parse({"--serve-port", "65536", "a"}).error == "bad port '65536' (1-65535)");
	CHECK(parse({"--upload-limit", "0", "a"}).error == "bad rate '0' (bytes per second, e.g. 500K or 20M)");
	CHECK(parse({"--upload-limit", "fast", "a"}).error.starts_with("bad rate 'fast'"));
	CHECK(parse({"--seed-time", "-1", "a"}).error == "bad seed time '-1' (want seconds, 0 to 86400)");
	CHECK(parse({"--identity", "", "a"}).error == "option --identity needs a file");
	for (const char* flag : {"--no-serve", "--serve-port PORT", "--upload-limit RATE", "--seed-time SECONDS",
	                         "--identity FILE"})
		CHECK(std::string(usage_text()).find(flag) != std::string::npos);
}
