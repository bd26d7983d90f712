// Send turns: one sender while the link runs full, in the order asked;
// more when the link runs short; back to fewer when it is full again.
#include "../../src/serve/send-turns.h"

#include <catch2/catch.hpp>

using serve::SendTurns;

namespace {

// Feeds `t` acknowledgements at `rate` bytes/s from `from` to `to`, every
// 10 ms, as the chunk server's tick does; returns the total at `to`.
std::uint64_t feed(SendTurns& t, std::uint64_t total, double rate, double from, double to)
{
	for (double now = from; now <= to + 1e-9; now += 0.01) {
		total += static_cast<std::uint64_t>(rate * 0.01);
		t.acked(total, now);
	}
	return total;
}

} // namespace

TEST_CASE("send turns: a lone asker is let in at once", "[serve][turns]")
{
	SendTurns t;
	CHECK_FALSE(t.contended());
	t.ask(7, 0.0);
	CHECK(t.admit(0.0) == std::vector<SendTurns::Id>{7});
	CHECK(t.has_turn(7));
	t.ask(7, 0.0); // asking again while it has its turn changes nothing
	CHECK(t.admit(0.0).empty());
	t.done(7, 0.2);
	t.leave(7);
	CHECK_FALSE(t.contended());
}

TEST_CASE("send turns: while the link runs full, one at a time in the order asked", "[serve][turns]")
{
	SendTurns t;
	for (SendTurns::Id id : {1, 2, 3})
		t.ask(id, 0.0);
	CHECK(t.admit(0.0) == std::vector<SendTurns::Id>{1});
	std::uint64_t total = feed(t, 0, 10e6, 0.01, 0.5);
	CHECK(t.admit(0.5).empty()); // full: 2 and 3 wait
	t.done(1, 0.5);
	t.ask(1, 0.5); // back of the line
	CHECK(t.admit(0.5) == std::vector<SendTurns::Id>{2});
	feed(t, total, 10e6, 0.51, 0.7);
	t.done(2, 0.7);
	CHECK(t.admit(0.7) == std::vector<SendTurns::Id>{3});
	CHECK(t.senders() == 1);
	CHECK(t.waiting());
}

TEST_CASE("send turns: a link running short lets more in, then fewer once full", "[serve][turns]")
{
	SendTurns t;
	for (SendTurns::Id id = 1; id <= 6; id++)
		t.ask(id, 0.0);
	CHECK(t.admit(0.0).size() == 1);
	std::uint64_t total = feed(t, 0, 10e6, 0.01, 0.5); // the best rate: 10 MB/s
	// The sender's client is busy elsewhere: it takes a third of the link.
	total = feed(t, total, 3.3e6, 0.51, 1.0);
	auto more = t.admit(1.0);
	CHECK(more.size() >= 1);
	CHECK(t.senders() >= 2);
	std::size_t grown = t.slots();
	// Full again: a turn that ends is not replaced.
	total = feed(t, total, 10e6, 1.01, 1.5);
	t.done(1, 1.5);
	CHECK(t.slots() == grown - 1);
	CHECK(t.admit(1.5).empty());
}

TEST_CASE("send turns: a turn ends when little is left to acknowledge", "[serve][turns]")
{
	SendTurns t;
	CHECK(t.turn_over(0));
	CHECK(t.turn_over(SendTurns::kMinTail));
	CHECK_FALSE(t.turn_over(2u << 20));
	t.ask(1, 0.0);
	t.admit(0.0);
	feed(t, 0, 1e9, 0.01, 0.5); // a fast link: a longer tail is still in flight
	CHECK(t.turn_over(16u << 20));
	CHECK_FALSE(t.turn_over(64u << 20));
}

TEST_CASE("send turns: one that leaves gives up its turn and its place", "[serve][turns]")
{
	SendTurns t;
	t.ask(1, 0.0);
	t.ask(2, 0.0);
	t.ask(3, 0.0);
	CHECK(t.admit(0.0) == std::vector<SendTurns::Id>{1});
	t.leave(2);
	t.leave(1);
	CHECK(t.admit(0.01) == std::vector<SendTurns::Id>{3});
	t.leave(3);
	CHECK_FALSE(t.contended());
}

TEST_CASE("send turns: a sender whose client takes nothing holds no one up for long", "[serve][turns]")
{
	SendTurns t;
	t.ask(1, 0.0);
	t.ask(2, 0.0);
	CHECK(t.admit(0.0) == std::vector<SendTurns::Id>{1});
	feed(t, 0, 0, 0.01, 0.5); // a frozen client: nothing acknowledged, no rate known
	CHECK(t.admit(0.5).empty());
	feed(t, 0, 0, 0.51, SendTurns::kProbe + 0.01);
	CHECK(t.admit(SendTurns::kProbe + 0.01) == std::vector<SendTurns::Id>{2});
}
