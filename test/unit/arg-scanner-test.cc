// The shared argv scanner: every form getopt_long users type, and its errors.
#include "p2p/arg-scanner.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

// Scans `args` with the flags -h/--help, -v/--verbose, -q, --json and the
// valued -p/--port, --name; returns one word per step ("v", "p=80",
// "op=x") and, when the scan stopped on an error, "error: ...".
std::vector<std::string> scan(std::vector<const char*> args)
{
	args.insert(args.begin(), "prog");
	p2p::ArgScanner s(static_cast<int>(args.size()), args.data());
	std::vector<std::string> seen;
	while (s.next()) {
		if (s.flag('h', "help"))
			seen.push_back("h");
		else if (s.flag('v', "verbose"))
			seen.push_back("v");
		else if (s.flag('q', "quiet"))
			seen.push_back("q");
		else if (s.flag(0, "json"))
			seen.push_back("json");
		else if (s.value('p', "port"))
			seen.push_back("p=" + std::string(s.arg()));
		else if (s.value(0, "name"))
			seen.push_back("name=" + std::string(s.arg()));
		else if (s.operand())
			seen.push_back("op=" + std::string(s.arg()));
		else {
			seen.push_back("error: " + s.error());
			break;
		}
	}
	return seen;
}

using Words = std::vector<std::string>;

} // namespace

TEST_CASE("arg scanner: nothing to scan", "[arg-scanner]")
{
	CHECK(scan({}).empty());
}

TEST_CASE("arg scanner: flags short and long", "[arg-scanner]")
{
	CHECK(scan({"-h", "--help", "-v", "--verbose", "--json"}) == Words{"h", "h", "v", "v", "json"});
}

TEST_CASE("arg scanner: a value in all four forms", "[arg-scanner]")
{
	CHECK(scan({"-p", "80", "-p81", "--port", "82", "--port=83"}) == Words{"p=80", "p=81", "p=82", "p=83"});
	// The value is taken as it comes, even when it looks like an option.
	CHECK(scan({"-p", "-v", "--name", "--", "--port=", "--name=a=b"}) ==
	      Words{"p=-v", "name=--", "p=", "name=a=b"});
	CHECK(scan({"-p", ""}) == Words{"p="});
}

TEST_CASE("arg scanner: a repeated flag letter counts once per letter", "[arg-scanner]")
{
	CHECK(scan({"-vv"}) == Words{"v", "v"});
	CHECK(scan({"-vvv", "-v", "-qq"}) == Words{"v", "v", "v", "v", "q", "q"});
	CHECK(scan({"-vv", "x"}) == Words{"v", "v", "op=x"});
}

TEST_CASE("arg scanner: letters of different flags do not combine", "[arg-scanner]")
{
	CHECK(scan({"-qv"}) == Words{"error: option -q takes no value"});
	CHECK(scan({"-vvq"}) == Words{"v", "error: option -v takes no value"});
	CHECK(scan({"-vp80"}) == Words{"error: option -v takes no value"});
	CHECK(scan({"-hx"}) == Words{"error: option -h takes no value"});
}

TEST_CASE("arg scanner: operands, '-' and '--'", "[arg-scanner]")
{
	CHECK(scan({"a", "-v", "b"}) == Words{"op=a", "v", "op=b"});
	CHECK(scan({"-", ""}) == Words{"op=-", "op="});
	CHECK(scan({"-v", "--", "-v", "--port=1", "--", "-"}) == Words{"v", "op=-v", "op=--port=1", "op=--", "op=-"});
	CHECK(scan({"--"}).empty());
}

TEST_CASE("arg scanner: errors name the option as written", "[arg-scanner]")
{
	CHECK(scan({"--json=1"}) == Words{"error: option --json takes no value"});
	CHECK(scan({"--json="}) == Words{"error: option --json takes no value"});
	CHECK(scan({"--help=yes"}) == Words{"error: option --help takes no value"});
	CHECK(scan({"-v", "-p"}) == Words{"v", "error: option -p needs a value"});
	CHECK(scan({"--port"}) == Words{"error: option --port needs a value"});
	CHECK(scan({"--name"}) == Words{"error: option --name needs a value"});
	CHECK(scan({"-x"}) == Words{"error: unknown option '-x'"});
	CHECK(scan({"--bogus=1"}) == Words{"error: unknown option '--bogus=1'"});
	// No abbreviations: a prefix of a long name, or a longer name, is unknown.
	CHECK(scan({"--verb"}) == Words{"error: unknown option '--verb'"});
	CHECK(scan({"--portx=1"}) == Words{"error: unknown option '--portx=1'"});
	CHECK(scan({"---"}) == Words{"error: unknown option '---'"});
}

TEST_CASE("arg scanner: an operand nobody takes is unexpected", "[arg-scanner]")
{
	const char* argv[] = {"prog", "-v", "extra"};
	p2p::ArgScanner s(3, argv);
	REQUIRE(s.next());
	CHECK(s.flag('v', "verbose"));
	REQUIRE(s.next());
	CHECK_FALSE(s.flag('v', "verbose"));
	CHECK_FALSE(s.value('p', "port"));
	CHECK(s.error() == "unexpected argument 'extra'");
	CHECK_FALSE(s.next());
}

TEST_CASE("arg scanner: a short-less option never matches a short one", "[arg-scanner]")
{
	const char* argv[] = {"prog", "-j"};
	p2p::ArgScanner s(2, argv);
	REQUIRE(s.next());
	CHECK_FALSE(s.flag(0, "json"));
	CHECK_FALSE(s.value(0, "json"));
	CHECK(s.error() == "unknown option '-j'");
}
