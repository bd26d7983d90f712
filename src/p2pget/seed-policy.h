// Whether a p2pget whose downloads are done keeps serving them: pure, the
// clock passed in. It keeps on while someone fetched from it a moment ago,
// or while the index lists other partial holders of one of its files
// (they may yet want our chunks), and never longer than --seed-time. A
// lone download (nobody fetching, nobody else partial) stops at once,
// after one answer from the index.
#pragma once

#include "p2p/message.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace p2pget {

class SeedPolicy {
public:
	// Someone fetched within this long: keep serving.
	static constexpr double kRecent = 2.0;
	// How long to wait for the index's first answer about other holders.
	static constexpr double kAnswerWait = 1.0;
	// Between two questions to the index about other holders.
	static constexpr double kAskEvery = 1.0;

	// `seed_time`: --seed-time (0: stop at once); `done_at`: when the last
	// download finished.
	SeedPolicy(double seed_time, double done_at) : seed_time_(seed_time), done_at_(done_at) {}

	// Bytes went out or a request is being answered at `now`.
	void served(double now) { last_served_ = now; }
	// The latest round of lookups found (or not) other partial holders;
	// an index that could not be asked counts as none.
	void holders(bool others_partial) { others_ = others_partial; }
	bool keep(double now) const;
	// Why keep() said what it said, for the log.
	std::string why(double now) const;

private:
	double seed_time_;
	double done_at_;
	double last_served_ = -1e18;
	std::optional<bool> others_; // no answer yet
};

// Whether `reply` lists a partial holder of version (size, hash) that is
// not us (`is_self`: our own chunk server, which the index lists too).
bool others_partial(const p2p::HoldersReply& reply, std::uint64_t size, const p2p::Hash& hash,
                    const std::function<bool(const p2p::PeerHolding&)>& is_self);

} // namespace p2pget
