#include "p2p/address.h"

#include <catch2/catch.hpp>

using namespace p2p;

TEST_CASE("HOST[:PORT] forms parse", "[address]")
{
	auto a = parse_host_port("10.0.0.1:6000", 60000);
	REQUIRE(a);
	CHECK(a->host == "10.0.0.1");
	CHECK(a->port == 6000);
	auto b = parse_host_port("example.org", 60000);
	REQUIRE(b);
	CHECK(b->port == 60000);
	auto c = parse_host_port("[::1]:7000", 60000);
	REQUIRE(c);
	CHECK(c->host == "::1");
	CHECK(c->port == 7000);
	auto d = parse_host_port("fe80::1", 60000);
	REQUIRE(d);
	CHECK(d->host == "fe80::1");
	CHECK(d->port == 60000);
}

TEST_CASE("malformed HOST[:PORT] is refused", "[address]")
{
	CHECK_FALSE(parse_host_port("", 1));
	CHECK_FALSE(parse_host_port("host:", 1));
	CHECK_FALSE(parse_host_port("host:0", 1));
	CHECK_FALSE(parse_host_port("host:70000", 1));
	CHECK_FALSE(parse_host_port("host:12x", 1));
	CHECK_FALSE(parse_host_port("[::1", 1));
	CHECK_FALSE(parse_host_port("[::1]x", 1));
}

TEST_CASE("addresses convert to the wire form and back", "[address]")
{
	auto v4 = resolve({"127.0.0.1", 5});
	REQUIRE(v4);
	IpBytes ip = ip_bytes(v4->get());
	CHECK(format_endpoint(ip, 5) == "127.0.0.1:5");
	SockAddr back = to_sockaddr(ip, 5);
	CHECK(back.family() == AF_INET);
	CHECK(format_endpoint(back.get()) == "127.0.0.1:5");

	auto v6 = resolve({"::1", 6});
	REQUIRE(v6);
	CHECK(format_endpoint(v6->get()) == "[::1]:6");
	CHECK(to_sockaddr(ip_bytes(v6->get()), 6).family() == AF_INET6);
}

TEST_CASE("A[:PORT],B[:PORT] lists parse in order, each with the default port", "[address]")
{
	auto l = parse_host_port_list("10.0.0.1:6000,[::1]:7000,fe80::2,idx", 60000);
	REQUIRE(l);
	REQUIRE(l->size() == 4);
	CHECK((*l)[0].host == "10.0.0.1");
	CHECK((*l)[0].port == 6000);
	CHECK((*l)[1].host == "::1");
	CHECK((*l)[1].port == 7000);
	CHECK((*l)[2].host == "fe80::2");
	CHECK((*l)[2].port == 60000);
	CHECK((*l)[3].host == "idx");
	CHECK(format_host_ports(*l) == "10.0.0.1:6000,[::1]:7000,[fe80::2]:60000,idx:60000");
	auto one = parse_host_port_list("a", 5);
	REQUIRE(one);
	CHECK(one->size() == 1);
	CHECK_FALSE(parse_host_port_list("", 1));
	CHECK_FALSE(parse_host_port_list("a,", 1));
	CHECK_FALSE(parse_host_port_list(",a", 1));
	CHECK_FALSE(parse_host_port_list("a,b:0", 1));
}

TEST_CASE("a bracket anywhere but around the whole host is refused", "[address]")
{
	// Found by the address-list fuzzer: it printed back as another address.
	CHECK_FALSE(parse_host_port("10.0.::1]:0)0.0", 1));
	CHECK_FALSE(parse_host_port("a]b", 1));
	CHECK_FALSE(parse_host_port("[a[b]:1", 1));
}
