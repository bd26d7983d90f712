// The one translation unit that compiles Catch2's main; every test file
// includes only the header, so a change to a test does not rebuild this.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
