#include "p2p/names.h"

#include <catch2/catch.hpp>

#include <string>

using p2p::is_safe_name;

TEST_CASE("relative names in subfolders and UTF-8 are safe", "[names]")
{
	CHECK(is_safe_name("a.txt"));
	CHECK(is_safe_name("sub/dir/file.bin"));
	CHECK(is_safe_name("données/été.txt"));
	CHECK(is_safe_name("a..b"));
}

TEST_CASE("absolute, dot-dot, hidden, empty and NUL names are refused", "[names]")
{
	CHECK_FALSE(is_safe_name(""));
	CHECK_FALSE(is_safe_name("/etc/passwd"));
	CHECK_FALSE(is_safe_name(".."));
	CHECK_FALSE(is_safe_name("../x"));
	CHECK_FALSE(is_safe_name("a/../x"));
	CHECK_FALSE(is_safe_name("a/.."));
	CHECK_FALSE(is_safe_name(".hidden"));
	CHECK_FALSE(is_safe_name("sub/.peerd/cache"));
	CHECK_FALSE(is_safe_name("a//b"));
	CHECK_FALSE(is_safe_name("a/"));
	CHECK_FALSE(is_safe_name(std::string("a\0b", 3)));
	CHECK_FALSE(is_safe_name(std::string(5000, 'a')));
}
