// Which sessions may hand chunk bytes to the kernel now, when several want
// to. A chunk sent to one client at the link's full rate is complete, and
// can be served on by that client, after one chunk time; sent beside N
// others it is complete only after N. So while clients wait, a few sessions
// send at a time, each for one turn (its chunk), and the rest wait in the
// order they asked: copies of a new chunk multiply through a swarm instead
// of trickling out side by side.
//
// Never at the cost of an idle upload: a sender whose client's own link is
// busy elsewhere takes less than our link gives, so when what all clients
// acknowledge falls below kFill of the best rate seen lately, one more
// session gets a turn (twice as many below half of it), and every kProbe
// one more anyway, in case the link is faster than any few clients take;
// a turn that ends while we ran at kFull of that best rate is not
// replaced, so the number of senders follows what the link needs. Pure: the clock and the byte counts are passed in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <vector>

namespace serve {

class SendTurns {
public:
	using Id = std::uint64_t;

	// Rates are measured over kWindow; a change is judged after kSettle.
	static constexpr double kWindow = 0.25;
	static constexpr double kSettle = 0.25;
	static constexpr double kProbe = 1.0;
	static constexpr double kFill = 0.85;
	static constexpr double kFull = 0.95;
	// The best rate is forgotten by half over this long.
	static constexpr double kPeakHalfLife = 10.0;
	// A turn is over when what its client has yet to acknowledge is this
	// little, or the link's worth of kTailTime at the best rate: the next
	// sender starts while the last bytes are in flight.
	static constexpr std::uint64_t kMinTail = 256u << 10;
	static constexpr double kTailTime = 0.03;

	// `id` has chunk bytes to send and asks for a turn. The first to ask
	// after a quiet spell starts over with one sender.
	void ask(Id id, double now);
	// `id` has no turn and no place in line now (its chunks are sent, or
	// it closed).
	void leave(Id id);
	// `id`'s turn is as good as over (turn_over()); it may ask again.
	void done(Id id, double now);
	// Every client's acknowledged bytes, in all, at `now`.
	void acked(std::uint64_t total, double now);
	// Those that get a turn now, in the order they asked.
	std::vector<Id> admit(double now);

	bool has_turn(Id id) const { return turns_.count(id) > 0; }
	bool waiting() const { return !line_.empty(); }
	bool contended() const { return !line_.empty() || !turns_.empty(); }
	std::size_t senders() const { return turns_.size(); }
	std::size_t slots() const { return slots_; }
	// Whether `unacked` bytes left of a turn mean that it is over.
	bool turn_over(std::uint64_t unacked) const;
	double rate() const { return rate_; }
	double peak() const { return peak_; }

private:
	bool starved() const { return rate_ < kFill * peak_; }
	bool full() const { return rate_ >= kFull * peak_; }

	std::deque<Id> line_;
	std::set<Id> turns_;
	std::size_t slots_ = 1;
	double changed_at_ = -1e18; // slots_ last changed
	std::deque<std::pair<double, std::uint64_t>> samples_; // (time, acked)
	double rate_ = 0, peak_ = 0, peak_at_ = 0;
};

} // namespace serve
