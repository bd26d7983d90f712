// Recent sends: a chunk sent to one session counts as taken for the others
// for the spare window, never for that session, and is then forgotten.
#include "../../src/serve/recent-sends.h"

#include <catch2/catch.hpp>

using serve::RecentSends;

TEST_CASE("recent sends: taken for other sessions within the window only", "[serve][spare]")
{
	RecentSends r;
	constexpr double w = p2p::kSpareWindow;
	CHECK_FALSE(r.taken("f", 0, 2, 0.0));
	r.sent("f", 0, 1, 10.0);
	CHECK(r.taken("f", 0, 2, 10.0));
	CHECK(r.taken("f", 0, 2, 10.0 + w - 0.01));
	CHECK_FALSE(r.taken("f", 0, 1, 11.0)); // its own
	CHECK_FALSE(r.taken("f", 1, 2, 11.0)); // another chunk
	CHECK_FALSE(r.taken("g", 0, 2, 11.0)); // another file
	CHECK_FALSE(r.taken("f", 0, 2, 10.0 + w + 0.01));
	CHECK(r.size() == 0);
}

TEST_CASE("recent sends: the last send counts, and memory holds one window", "[serve][spare]")
{
	RecentSends r;
	constexpr double w = p2p::kSpareWindow;
	r.sent("f", 3, 1, 0.0);
	r.sent("f", 3, 2, w - 1); // sent again, to session 2
	CHECK(r.taken("f", 3, 1, w + 0.5)); // session 2's send is still recent
	CHECK_FALSE(r.taken("f", 3, 2, w + 0.5));
	CHECK_FALSE(r.taken("f", 3, 1, 2 * w));
	for (std::uint32_t c = 0; c < 1000; c++)
		r.sent("f", c, 1, 100.0 + c * 0.01); // 10 s of sends
	CHECK(r.size() <= static_cast<std::size_t>(w / 0.01) + 1);
	CHECK(r.taken("f", 999, 2, 110.0));
	CHECK_FALSE(r.taken("f", 0, 2, 110.0));
}
