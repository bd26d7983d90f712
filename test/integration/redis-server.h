// A real redis-server for the tests of indexd --store redis://: its own
// free loopback port, no persistence (--save "" --appendonly no), stopped
// by PID when the fixture goes. P2P_TEST_STORE=redis runs the indexd suite
// against it (indexd-harness.h).
#pragma once

#include "fixtures.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>

namespace fixtures {

struct RedisServer {
	std::uint16_t port = free_port();
	std::unique_ptr<Process> proc;

	RedisServer() { start(); }
	void start()
	{
		proc = std::make_unique<Process>(std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(port),
		                                                          "--bind", "127.0.0.1", "--save", "",
		                                                          "--appendonly", "no"});
		REQUIRE(wait_for_port(port));
	}
	std::string url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

// True when the indexd tests are to run against Redis.
inline bool test_store_is_redis()
{
	const char* s = std::getenv("P2P_TEST_STORE");
	return s && std::string(s) == "redis";
}

} // namespace fixtures
