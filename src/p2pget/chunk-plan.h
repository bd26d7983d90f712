// Which chunk goes to which peer: a shared queue, retries, dropped peers and
// the endgame. Pure (no sockets, no clock: callers pass `now`), so every
// decision is unit-tested. The download engine asks next() whenever a peer
// connection has room in its pipeline, so faster peers simply ask more often.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace p2pget {

class ChunkPlan {
public:
	using PeerId = std::size_t;

	// `max_copies`: how many peers may fetch one chunk at once in the endgame.
	explicit ChunkPlan(std::uint32_t chunk_count, std::uint32_t max_copies = 2);

	PeerId add_peer();

	// The chunk `peer` should request next, or nullopt when there is none
	// for it now. Takes the oldest queued chunk; in the endgame and when
	// `allow_duplicate`, the chunk whose oldest copy has been in flight
	// longest among those with fewer than max_copies copies, none with this
	// peer, and in flight for at least `min_age` seconds (a copy of a
	// request that is merely on time only wastes bandwidth).
	std::optional<std::uint32_t> next(PeerId peer, double now, bool allow_duplicate = true, double min_age = 0);

	// A verified copy of `chunk` came from `peer`. Returns the other peers
	// still fetching it, whose copies are now worthless (discard them).
	// A peer that no longer holds the chunk (dropped meanwhile) gets
	// nullopt: the result is stale and must be ignored.
	std::optional<std::vector<PeerId>> verified(PeerId peer, std::uint32_t chunk);

	// The copy from `peer` failed (timeout, error): unless another copy is
	// in flight the chunk goes back to the front of the queue.
	void failed(PeerId peer, std::uint32_t chunk);

	// Stop using `peer` for this file (bad data, timeout, closed); every
	// copy it had in flight fails. Returns those chunks.
	std::vector<std::uint32_t> drop_peer(PeerId peer);

	// Resume: take a chunk out of the queue while its bytes on disk are
	// checked; then done() or release() (back to the front of the queue).
	void hold(std::uint32_t chunk);
	void done(std::uint32_t chunk);
	void release(std::uint32_t chunk);

	bool complete() const { return done_count_ == states_.size(); }
	std::uint32_t chunk_count() const { return static_cast<std::uint32_t>(states_.size()); }
	std::uint32_t done_count() const { return done_count_; }
	bool is_done(std::uint32_t chunk) const { return states_.at(chunk) == State::Done; }
	// True when chunks are missing and no peer is left to ask.
	bool starved() const { return !complete() && live_peers() == 0; }
	std::size_t live_peers() const;
	bool peer_live(PeerId peer) const { return peer < peers_.size() && peers_[peer].live; }
	std::uint32_t in_flight(PeerId peer) const;
	std::size_t copies(std::uint32_t chunk) const;
	// Nothing queued, and nothing held that a failed local check may yet
	// put back in the queue.
	bool endgame() const { return queued_count_ == 0 && held_count_ == 0 && !complete(); }
	std::uint32_t queued() const { return queued_count_; }
	// Chunks handed out again after a failed or dropped copy.
	std::uint64_t retries() const { return retries_; }
	std::uint64_t duplicates() const { return duplicates_; }

private:
	enum class State : std::uint8_t { Queued, Held, InFlight, Done };
	struct Copy {
		PeerId peer;
		double started;
	};
	struct Peer {
		bool live = true;
		std::uint32_t in_flight = 0;
	};
	void remove_copy(std::uint32_t chunk, PeerId peer);
	void requeue(std::uint32_t chunk);

	std::vector<State> states_;
	std::deque<std::uint32_t> queue_;
	std::map<std::uint32_t, std::vector<Copy>> flights_; // chunk -> copies in flight
	std::vector<Peer> peers_;
	std::uint32_t max_copies_;
	std::uint32_t queued_count_;
	std::uint32_t held_count_ = 0;
	std::uint32_t done_count_ = 0;
	std::uint64_t retries_ = 0;
	std::uint64_t duplicates_ = 0;
};

} // namespace p2pget
