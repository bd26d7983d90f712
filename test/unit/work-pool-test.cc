#include "p2p/work-pool.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace p2p;

TEST_CASE("work runs on workers and completions on the reactor thread", "[work-pool]")
{
	EventBasePtr base(event_base_new());
	WorkPool pool(base.get(), 2);
	REQUIRE(pool.ok());
	const auto reactor = std::this_thread::get_id();
	std::atomic<int> off_reactor{0};
	int completed = 0;
	bool all_on_reactor = true;
	for (int i = 0; i < 100; i++) {
		pool.submit([&] { off_reactor += std::this_thread::get_id() != reactor; },
		            [&] {
				    all_on_reactor = all_on_reactor && std::this_thread::get_id() == reactor;
				    if (++completed == 100)
					    event_base_loopbreak(base.get());
			    });
	}
	CHECK(pool.pending() == 100);
	timeval limit = to_timeval(10);
	event_base_loopexit(base.get(), &limit);
	event_base_dispatch(base.get());
	CHECK(completed == 100);
	CHECK(off_reactor == 100);
	CHECK(all_on_reactor);
	CHECK(pool.pending() == 0);
}
