#include "p2p/parse-number.h"

#include <catch2/catch.hpp>

using namespace p2p;

TEST_CASE("numbers parse strictly", "[parse-number]")
{
	CHECK(parse_u64("0") == 0u);
	CHECK(parse_u64("65535", 65535) == 65535u);
	CHECK_FALSE(parse_u64("65536", 65535));
	CHECK_FALSE(parse_u64(""));
	CHECK_FALSE(parse_u64("-1"));
	CHECK_FALSE(parse_u64("12a"));
	CHECK_FALSE(parse_u64(" 1"));
	CHECK_FALSE(parse_u64("99999999999999999999999"));
}

TEST_CASE("seconds accept fractions but not zero or junk", "[parse-number]")
{
	CHECK(parse_seconds("15") == 15.0);
	CHECK(parse_seconds("0.5") == 0.5);
	CHECK_FALSE(parse_seconds("0"));
	CHECK_FALSE(parse_seconds("-1"));
	CHECK_FALSE(parse_seconds("nan"));
	CHECK_FALSE(parse_seconds("1s"));
}

TEST_CASE("sizes take K, M, G suffixes in powers of 1024", "[parse-number]")
{
	CHECK(parse_size("100") == 100u);
	CHECK(parse_size("1K") == 1024u);
	CHECK(parse_size("20M") == 20u << 20);
	CHECK(parse_size("20m") == 20u << 20);
	CHECK(parse_size("2G") == 2ull << 30);
	CHECK(parse_size("1MiB") == 1u << 20);
	CHECK(parse_size("1MB") == 1u << 20);
	CHECK_FALSE(parse_size("M"));
	CHECK_FALSE(parse_size("1T"));
	CHECK_FALSE(parse_size("1.5M"));
	CHECK_FALSE(parse_size("99999999999999999G"));
}
