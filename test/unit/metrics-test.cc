// The Prometheus text format as scrapers parse it, and --metrics addresses.
#include "p2p/metrics-server.h"
#include "p2p/metrics.h"

#include <catch2/catch.hpp>

using namespace p2p;

TEST_CASE("PromText: HELP and TYPE once per family, labels escaped", "[metrics]")
{
	PromText t;
	t.counter("x_total", "Things.\nDone", 3, {{"type", "a\"b"}});
	t.counter("x_total", "Things.", 4, {{"type", "c\\d"}});
	t.gauge("y", "A level.", 1.5);
	CHECK(t.text() == "# HELP x_total Things.\\nDone\n"
	                  "# TYPE x_total counter\n"
	                  "x_total{type=\"a\\\"b\"} 3\n"
	                  "x_total{type=\"c\\\\d\"} 4\n"
	                  "# HELP y A level.\n"
	                  "# TYPE y gauge\n"
	                  "y 1.5\n");
}

TEST_CASE("Histogram: cumulative buckets, +Inf, sum and count", "[metrics]")
{
	Histogram h({0.001, 0.01});
	h.observe(0.0005);
	h.observe(0.001, 2); // on the bound: in that bucket (le)
	h.observe(0.005);
	h.observe(1.0);
	PromText t;
	t.histogram("lat_seconds", "Latency.", h.bounds(), h.counts(), h.sum());
	CHECK(t.text() == "# HELP lat_seconds Latency.\n"
	                  "# TYPE lat_seconds histogram\n"
	                  "lat_seconds_bucket{le=\"0.001\"} 3\n"
	                  "lat_seconds_bucket{le=\"0.01\"} 4\n"
	                  "lat_seconds_bucket{le=\"+Inf\"} 5\n"
	                  "lat_seconds_sum 1.0075\n"
	                  "lat_seconds_count 5\n");
}

TEST_CASE("--metrics takes PORT or ADDR:PORT", "[metrics]")
{
	auto any = parse_metrics_address("9100");
	REQUIRE(any);
	CHECK(any->host.empty());
	CHECK(any->port == 9100);
	auto v6 = parse_metrics_address("[::1]:9100");
	REQUIRE(v6);
	CHECK(v6->host == "::1");
	CHECK(parse_metrics_address("127.0.0.1:80")->host == "127.0.0.1");
	CHECK_FALSE(parse_metrics_address("0"));
	CHECK_FALSE(parse_metrics_address("localhost"));
	CHECK_FALSE(parse_metrics_address("host:0"));
	CHECK_FALSE(parse_metrics_address(""));
}
