// Which chunk goes to which peer, and how: a shared queue ordered rarest
// first, retries, dropped peers, resume holds, and the endgame's extra
// copies with the memory they may take. Pure (no sockets, no clock: callers
// pass `now`), so every decision is unit-tested. The download asks whenever
// a peer connection has room in its pipeline, so faster peers ask more.
//
// Order, as libtorrent's piece_picker and Transmission's wishlist: of the
// queued chunks a peer has, those the fewest live holders have come first;
// among equals, chunks put back (a failed copy, a released resume check)
// come first, newest first, then the rest in chunk order: index order
// without a seed, else a random order fixed by the seed (Transmission's
// salt), so that downloaders started together take different chunks.
//
// Cost, for n chunks, F of them put back and still queued, L levels of
// availability in use, k copies in flight:
//   next() for a complete holder: O(log F + log k) amortized (the lowest
//     rank of a level is O(1); see chunk-set.h), plus O(k) in the endgame;
//   next() for a partial holder: O(F + L * n/64 + log k) at worst, scanning
//     a word (64 chunks) at a time;
//   add_peer(): O(1); add_peer(have): O(n); peer_has(): O(1), and O(n) once
//     when it completes a holder; drop_peer(): O(k log k), plus O(n/64 + the
//     chunks it has) for a partial holder;
//   verified(), failed(), hold(), release(): O(log F + log k).
#pragma once

#include "chunk-set.h"
#include "chunk-stripes.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace p2pget {

// How many endgame copies may be held in memory at once. The Engine owns
// one for the whole process and every download's plan spends from it.
struct DupBudget {
	int free = 4;
};

class ChunkPlan {
public:
	using PeerId = std::size_t;

	// Write: the copy's bytes go straight into the file; a chunk has at most
	// one writer at a time. Buffer: an endgame copy held in memory and
	// hashed there, so two peers never write one chunk's bytes at once; it
	// holds one unit of the budget until it ends, however it ends.
	enum class Mode : std::uint8_t { Write, Buffer };
	// `spare`: asked of a seed that other downloaders share, so the seed may
	// answer that it sent the chunk to one of them just now (taken()).
	struct Assignment {
		std::uint32_t chunk;
		Mode mode;
		bool spare = false;
	};

	// An endgame copy is only made of a request that has waited well beyond
	// what a chunk usually takes here, and never sooner than this.
	static constexpr double kMinCopyAge = 0.5;
	static constexpr double kCopyAgeFactor = 3.0;

	// `max_copies`: how many peers may fetch one chunk at once in the
	// endgame. `budget`: what Buffer copies spend (nullptr: no limit).
	// `seed`: random order among equals; without one, index order.
	explicit ChunkPlan(std::uint32_t chunk_count, std::uint32_t max_copies = 2, DupBudget* budget = nullptr,
	                   std::optional<std::uint64_t> seed = std::nullopt);
	ChunkPlan(const ChunkPlan&) = delete;
	ChunkPlan& operator=(const ChunkPlan&) = delete;
	~ChunkPlan(); // gives back the budget of the copies still in flight

	// A holder of every chunk (every peer today).
	PeerId add_peer();
	// A holder of the chunks set in `have` (indexed by chunk): another
	// downloader, known by `key` for stripes (0: none).
	PeerId add_peer(const std::vector<bool>& have, std::uint64_t key = 0);
	// `peer` has `chunk` now too. A holder that has them all is complete.
	void peer_has(PeerId peer, std::uint32_t chunk);

	// Swarming. A holder added complete (add_peer()) is a seed; one added
	// with a bitfield is another downloader. With spare_seeds, while
	// another downloader is live, a seed is only asked for chunks no live
	// downloader has or has claimed, so that each chunk leaves the seed
	// about once and the downloaders trade the rest. `peer` has asked a
	// seed for `chunk` (FETCHING): the claim counts as one more holder until
	// that peer has the chunk, is dropped, or `until` passes.
	void set_spare_seeds(bool on) { spare_seeds_ = on; }
	// Stripes (chunk-stripes.h), once our own key is known: a spare seed is
	// asked for the chunks we own first, then for one late in the stripe
	// of the downloader with the most left, so that the seed never idles
	// while a chunk has not left it; after kStripePatience with nothing in
	// flight, for any.
	static constexpr double kStripePatience = 2.0;
	void set_self_key(std::uint64_t key);
	const ChunkStripes* stripes() const { return stripes_ ? &*stripes_ : nullptr; }
	void claim(PeerId peer, std::uint32_t chunk, double until);
	std::size_t claims() const { return claims_.size(); }
	// The first time after `now` at which a pick that found nothing may
	// find a chunk with no news at all: a claim running out, or the stripe
	// patience of the last pick for a seed. Nothing to wait for: nullopt.
	std::optional<double> wake_at(double now) const;
	std::size_t downloaders_live() const { return downloaders_live_; }

	// The download's question: what `peer` should fetch now, and how. An
	// endgame copy only for an `idle` peer (a busy one would queue it behind
	// its own work), of a request older than min_copy_age(); a Buffer copy
	// only when the budget has room, and it spends one unit.
	std::optional<Assignment> assign(PeerId peer, double now, bool idle);
	// The same choice with the endgame's inputs given: the next queued
	// chunk `peer` has; else, in the endgame and when `allow_duplicate`,
	// the chunk whose oldest copy has been in flight longest among those
	// `peer` has, with fewer than max_copies copies, none from `peer`, and
	// in flight for at least `min_age` seconds (a copy of a request that is
	// merely on time only wastes bandwidth).
	std::optional<std::uint32_t> next(PeerId peer, double now, bool allow_duplicate = true, double min_age = 0);

	// The last byte of `peer`'s copy of `chunk` came at `now`: one sample of
	// how long a chunk takes here, from which min_copy_age() follows.
	void received(PeerId peer, std::uint32_t chunk, double now);
	double min_copy_age() const;

	// A verified copy of `chunk` came from `peer`. Returns the other peers
	// still fetching it, whose copies are now worthless (discard them; a
	// writer among them must stop writing before the winner's bytes, if
	// they were buffered, go into the file). Every copy ends here and gives
	// back its budget. A peer that no longer holds the chunk (dropped or
	// lost meanwhile) gets nullopt: the result is stale and must be ignored.
	std::optional<std::vector<PeerId>> verified(PeerId peer, std::uint32_t chunk);

	// The copy from `peer` failed (timeout, error): unless another copy is
	// in flight the chunk goes back to the front of the queue.
	void failed(PeerId peer, std::uint32_t chunk);
	// The seed `peer` sent `chunk` to another downloader just now: this copy
	// ends, not as a failure, and the chunk counts one holder more (someone
	// unknown has it coming) until a holder says it has it or `until`.
	void taken(PeerId peer, std::uint32_t chunk, double until);

	// Stop using `peer` for this file (bad data, timeout, closed); every
	// copy it had in flight fails, and the chunks it has count one holder
	// less. Returns those chunks.
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
	bool is_queued(std::uint32_t chunk) const { return states_.at(chunk) == State::Queued; }
	// True when chunks are missing that no live holder has (no peer left,
	// or only holders that lack one of them).
	bool starved() const { return !complete() && (live_peers() == 0 || unavailable() > 0); }
	// Queued chunks no live holder has.
	std::uint32_t unavailable() const;
	std::size_t live_peers() const;
	bool peer_live(PeerId peer) const { return peer < peers_.size() && peers_[peer].live; }
	bool peer_complete(PeerId peer) const { return peer < peers_.size() && peers_[peer].complete; }
	bool peer_seed(PeerId peer) const { return peer < peers_.size() && peers_[peer].seed; }
	bool holds(PeerId peer, std::uint32_t chunk) const;
	// Live holders of `chunk`.
	std::size_t availability(std::uint32_t chunk) const { return complete_live_ + avail_.at(chunk); }
	std::uint32_t in_flight(PeerId peer) const;
	std::size_t copies(std::uint32_t chunk) const;
	// Whether `peer`'s copy of `chunk` is in flight and is the one writing
	// into the file (so a verdict on the file's bytes is about it).
	bool writing(PeerId peer, std::uint32_t chunk) const;
	// Buffer copies in flight: the budget this plan holds now.
	std::size_t buffered() const { return buffered_; }
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
		Mode mode;
	};
	struct Peer {
		bool live = true;
		bool complete = true;
		bool seed = true; // added complete; else a downloader
		std::uint64_t key = 0; // a downloader's, for stripes
		std::uint32_t in_flight = 0;
		ChunkSet have; // by rank; empty while complete
	};

	std::optional<Assignment> take(PeerId peer, double now, bool allow_duplicate, double min_age);
	std::optional<std::uint32_t> pick_queued(const Peer& p, std::size_t max_level) const;
	std::optional<std::uint32_t> pick_spare(const Peer& p, double now);
	void unclaim(std::uint32_t chunk);
	void expire_claims(double now);
	std::optional<std::uint32_t> pick_copy(PeerId peer, double now, double min_age) const;
	Assignment start_copy(std::uint32_t chunk, PeerId peer, double now);
	void end_copy(const Copy& c);
	void remove_copy(std::uint32_t chunk, PeerId peer);
	void enqueue(std::uint32_t chunk, bool front);
	void dequeue(std::uint32_t chunk);
	void shift(std::uint32_t chunk, int by);
	ChunkSet& level(std::uint32_t avail); // made on first use
	void learn(Peer& p, std::uint32_t chunk);
	void promote(Peer& p);
	void requeue(std::uint32_t chunk);
	bool has_writer(std::uint32_t chunk) const;
	bool budget_left() const { return !budget_ || budget_->free > 0; }

	std::vector<State> states_;
	// A chunk's rank is its place in the order among equals: its index, or
	// its place in the seeded shuffle. Sets of chunks are kept by rank.
	std::vector<std::uint32_t> rank_, chunk_at_;
	std::vector<std::uint32_t> avail_;  // live partial holders per chunk
	std::vector<ChunkSet> levels_;      // queued chunks by avail_, by rank
	std::map<std::uint64_t, std::uint32_t, std::greater<>> front_; // stamp -> chunk put back
	std::vector<std::uint64_t> stamp_;  // per chunk: its key in front_, or 0
	std::uint64_t next_stamp_ = 0;
	std::map<std::uint32_t, std::vector<Copy>> flights_; // chunk -> copies in flight
	std::vector<Peer> peers_;
	std::size_t complete_live_ = 0;
	std::size_t downloaders_live_ = 0;
	std::size_t complete_downloaders_ = 0; // live, and now holding every chunk
	bool spare_seeds_ = false;
	struct Claim {
		PeerId peer; // kSomeone: a downloader we were told of, not which
		double until;
	};
	static constexpr PeerId kSomeone = static_cast<PeerId>(-1);
	std::map<std::uint32_t, Claim> claims_; // chunk -> who claimed it
	std::optional<ChunkStripes> stripes_;
	std::optional<double> idle_since_; // nothing in flight since
	bool stripe_waiting_ = false;
	std::uint32_t max_copies_;
	DupBudget* budget_;
	std::size_t buffered_ = 0;
	double chunk_seconds_ = 0; // moving average, request -> last byte
	std::uint32_t queued_count_;
	std::uint32_t held_count_ = 0;
	std::uint32_t done_count_ = 0;
	std::uint64_t retries_ = 0;
	std::uint64_t duplicates_ = 0;
};

} // namespace p2pget
