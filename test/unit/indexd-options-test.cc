#include "../../src/indexd/options.h"

#include <catch2/catch.hpp>

#include <vector>

using indexd::ParseResult;

namespace {

ParseResult parse(std::vector<const char*> args)
{
	args.insert(args.begin(), "indexd");
	return indexd::parse_options(static_cast<int>(args.size()), args.data());
}

} // namespace

TEST_CASE("indexd defaults", "[indexd][options]")
{
	auto r = parse({});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.port == 60000);
	CHECK(r.options.listen.empty());
	CHECK(r.options.ttl == 30.0);
	CHECK(r.options.verbose == 0);
}

TEST_CASE("indexd flags in short, attached and long forms", "[indexd][options]")
{
	auto r = parse({"-p", "1234", "-l", "::1", "-t", "2.5", "-v", "-vv"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.port == 1234);
	CHECK(r.options.listen == "::1");
	CHECK(r.options.ttl == 2.5);
	CHECK(r.options.verbose == 3);

	r = parse({"-p99", "--listen=[::1]", "--ttl", "7", "--verbose"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.port == 99);
	CHECK(r.options.listen == "::1");
	CHECK(r.options.ttl == 7.0);
	CHECK(r.options.verbose == 1);

	r = parse({"--port=65535", "-l127.0.0.1"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.port == 65535);
	CHECK(r.options.listen == "127.0.0.1");
}

TEST_CASE("indexd help and version", "[indexd][options]")
{
	CHECK(parse({"-h"}).action == ParseResult::Action::Help);
	CHECK(parse({"--help"}).action == ParseResult::Action::Help);
	CHECK(parse({"-p", "5", "-V"}).action == ParseResult::Action::Version);
	CHECK(parse({"--version"}).action == ParseResult::Action::Version);
	CHECK(indexd::usage_text().find("default 60000") != std::string::npos);
}

TEST_CASE("indexd refuses bad flags with a message", "[indexd][options]")
{
	for (auto args : std::vector<std::vector<const char*>>{
		     {"-p"}, {"-p", "0"}, {"-p", "65536"}, {"-p", "http"}, {"-p", "-1"}, {"-t", "0"},
		     {"-t", "abc"}, {"-t", "-3"}, {"-t", "100000"}, {"-l"}, {"-l", ""}, {"-x"}, {"--bogus"},
		     {"extra"}}) {
		auto r = parse(args);
		INFO(args[0]);
		CHECK(r.action == ParseResult::Action::Error);
		CHECK_FALSE(r.error.empty());
	}
}

TEST_CASE("indexd --secret-file", "[indexd][options]")
{
	CHECK(parse({}).options.secret_file.empty());
	auto r = parse({"--secret-file", "/etc/p2p/secret"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.secret_file == "/etc/p2p/secret");
	r = parse({"--secret-file=key"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.secret_file == "key");
	CHECK(parse({"--secret-file"}).action == ParseResult::Action::Error);
	CHECK(parse({"--secret-file="}).action == ParseResult::Action::Error);
	CHECK(indexd::usage_text().find("--secret-file FILE") != std::string::npos);
}

TEST_CASE("indexd takes -vv and -- as peerd and p2pget do", "[indexd][options]")
{
	auto r = parse({"-vvv", "--"});
	REQUIRE(r.action == ParseResult::Action::Run);
	CHECK(r.options.verbose == 3);
	CHECK(parse({"--", "-p"}).error == "unexpected argument '-p'");
	CHECK(parse({"-p"}).error == "option -p needs a value");
	CHECK(parse({"--verbose=2"}).error == "option --verbose takes no value");
}
