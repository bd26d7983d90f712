// Resource exhaustion: with few file descriptors, a thousand idle
// connections and a client trickling a byte a second, indexd keeps serving
// the clients it has and recovers at once when the load goes.
#include "fixtures.h"

#include <catch2/catch.hpp>

#include <csignal>

#include <memory>
#include <thread>

using namespace fixtures;
using namespace std::chrono;

namespace {

std::vector<std::string> with_fd_limit(int n, std::vector<std::string> argv)
{
	argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nofile=" + std::to_string(n)});
	return argv;
}

// Opens up to `n` connections and keeps them, silent. Returns how many the
// kernel accepted into the backlog or the server accepted.
std::vector<std::unique_ptr<Client>> flood(std::uint16_t port, int n)
{
	std::vector<std::unique_ptr<Client>> idle;
	for (int i = 0; i < n; i++) {
		auto c = std::make_unique<Client>();
		if (c->connect(port))
			idle.push_back(std::move(c));
	}
	return idle;
}

// Sends the frame one byte every `gap`, until the server hangs up or the
// frame is done. True when the server closed it first.
bool trickle_is_cut_off(Client& c, const std::vector<std::byte>& frame, milliseconds gap)
{
	for (std::size_t i = 0; i < frame.size(); i++) {
		if (!c.send_bytes(&frame[i], 1))
			return true;
		if (c.closed_by_peer(gap))
			return true;
	}
	return false;
}

bool lookup_answers(Client& c, const std::string& name)
{
	auto r = ask<p2p::LookupReply>(c, p2p::Lookup{name});
	return r && r->name == name;
}

} // namespace

TEST_CASE("indexd: under fd exhaustion keeps serving and recovers", "[indexd][exhaustion]")
{
	raise_fd_limit(); // the test itself holds a thousand sockets
	auto port = free_port();
	Process index(with_fd_limit(64, {bin("indexd"), "-p", std::to_string(port), "-t", "2"}));
	REQUIRE(wait_for_port(port));
	Client before;
	REQUIRE(before.connect(port));
	REQUIRE(lookup_answers(before, "x"));

	auto idle = flood(port, 1000);
	INFO("idle connections opened: " << idle.size());
	// A client connected before the flood is still answered, more than once.
	for (int i = 0; i < 3; i++) {
		CHECK(lookup_answers(before, "x"));
		std::this_thread::sleep_for(milliseconds(300));
	}
	CHECK(index.running());

	idle.clear();
	// Once the load goes, new clients get in again.
	CHECK(eventually(
		[&] {
			Client after;
			return after.connect(port) && lookup_answers(after, "x");
		},
		seconds(3)));
	Client observer;
	REQUIRE(observer.connect(port));
	auto stats = ask<p2p::StatsReply>(observer, p2p::Stats{});
	REQUIRE(stats);
	std::uint64_t turned_away = 0;
	for (auto& [k, v] : stats->counters)
		if (k == "conn_limit")
			turned_away = v;
	CHECK(turned_away > 0);
	index.signal(SIGTERM);
	CHECK(index.wait() == 0);
}

TEST_CASE("indexd: cuts off a client trickling one byte a second", "[indexd][exhaustion]")
{
	auto port = free_port();
	Process index({bin("indexd"), "-p", std::to_string(port), "-t", "2"});
	REQUIRE(wait_for_port(port));
	Client slow, normal;
	REQUIRE(slow.connect(port));
	REQUIRE(normal.connect(port));
	auto frame = p2p::encode(p2p::Lookup{std::string(40, 'n')});
	std::thread([&] { CHECK(trickle_is_cut_off(slow, frame, milliseconds(1000))); }).join();
	CHECK(lookup_answers(normal, "x"));
}
