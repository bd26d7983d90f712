// indexd --metrics: a real scrape over HTTP, and bad HTTP that closes only
// its own connection.
#include "indexd-harness.h"

#include <catch2/catch.hpp>

using namespace fixtures;
using namespace indexd_test;

TEST_CASE("indexd --metrics: GET /metrics in the Prometheus text format", "[indexd][integration][metrics]")
{
	std::uint16_t mport = free_port();
	Indexd index({"--metrics", "127.0.0.1:" + std::to_string(mport)});
	REQUIRE(wait_for_port(mport));
	Client peer, c;
	index.connect(peer);
	index.connect(c);
	REQUIRE(ask<p2p::Ok>(peer, p2p::Register{6001, {{"a", 1, hash_of(1)}, {"b", 2, hash_of(2)}}}));
	lookup(c, "a");
	lookup(c, "a");

	auto page = scrape_metrics(mport);
	INFO(page);
	CHECK(page.find("HTTP/1.0 200 OK") == 0);
	CHECK(page.find("Content-Type: text/plain; version=0.0.4") != std::string::npos);
	CHECK(page.find("# TYPE p2p_index_peers gauge\np2p_index_peers 1\n") != std::string::npos);
	CHECK(page.find("# TYPE p2p_index_files gauge\np2p_index_files 2\n") != std::string::npos);
	CHECK(page.find("# HELP p2p_index_requests_total ") != std::string::npos);
	CHECK(page.find("p2p_index_requests_total{type=\"lookup\"} 2\n") != std::string::npos);
	CHECK(page.find("p2p_index_requests_total{type=\"register\"} 1\n") != std::string::npos);
	// Request latency as a histogram: every request so far (a register and
	// two lookups) observed once, in cumulative buckets.
	CHECK(page.find("# TYPE p2p_index_request_seconds histogram\n") != std::string::npos);
	CHECK(page.find("p2p_index_request_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
	CHECK(page.find("p2p_index_request_seconds_count 3\n") != std::string::npos);
	// Every STATS counter is there too.
	for (auto& [name, value] : stats(c))
		if (name != "peers" && name != "files" && name != "names" && name != "ttl_ms" && name != "features" &&
		    name != "uptime_s" && name != "connections_open" && name != "store_redis" &&
		    name != "redis_connected" && name != "redis_in_flight")
			CHECK(page.find("p2p_index_" + name + "_total ") != std::string::npos);

	CHECK(http(mport, "GET /other HTTP/1.0\r\n\r\n").find("404") != std::string::npos);
	CHECK(http(mport, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n").find(" 501 ") != std::string::npos);
	// Garbage closes that connection only: the index and the next scrape go on.
	http(mport, std::string(20000, 'x') + "\r\n\r\n");
	CHECK(lookup(c, "b").size() == 1);
	CHECK(scrape_metrics(mport).find("p2p_index_requests_total{type=\"lookup\"} 3\n") != std::string::npos);
}

TEST_CASE("indexd --metrics: a bad address is a usage error", "[indexd][integration][metrics]")
{
	auto r = run({bin("indexd"), "--metrics", "nowhere"});
	CHECK(r.status == 2);
	CHECK(r.err.find("bad metrics address") != std::string::npos);
}
