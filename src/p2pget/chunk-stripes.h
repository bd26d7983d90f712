// Which downloader asks the seed for which chunk. Each chunk belongs to one
// of the live downloaders, ourselves included: the one whose key scores
// highest with it (rendezvous hashing). Downloaders that know the same set
// of each other agree on every owner without a word, so downloaders started
// together ask the seed for disjoint chunks even when the news of each
// other's fetches (FETCHING, HAVE) comes late, as it does behind chunk
// bytes on a busy link. A downloader coming or going moves only the chunks
// it owns. Pure; keys are whatever the caller derives from addresses.
#pragma once

#include "chunk-set.h"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace p2pget {

// A downloader's key: from its address as the index lists it (16 bytes,
// IPv4 mapped), never 0.
std::uint64_t stripe_key(const std::array<std::uint8_t, 16>& ip, std::uint16_t port);

class ChunkStripes {
public:
	// `chunk_at`: the chunk at each rank of the plan's order (our own
	// random order, which breaks ties among thieves).
	ChunkStripes(std::vector<std::uint32_t> chunk_at, std::uint64_t self_key);

	// Another live downloader; a key already there (or ours) is ignored.
	void add(std::uint64_t key);
	void remove(std::uint64_t key);
	bool owns(std::uint32_t chunk) const { return owner_[chunk] == self_; }
	std::size_t others() const { return keys_.size(); }

	// What to ask the seed for of `open` (by rank: chunks only the seed
	// has). Ours first, in the owner's order (by score, which every
	// downloader can compute). Else a chunk of the owner with the most left,
	// from the later half of its order, never its next one: that owner is
	// busy with the seed, and we keep the seed busy meanwhile. `busy`: the
	// owners we know to be fetching from the seed now (the chunk they fetch
	// counts as the next of their order, so what they have left open is all
	// later). `stuck` (we have waited long with nothing to do): any of them,
	// first by rank, so that an owner that never fetches its last chunk
	// (frozen, say) cannot stall us.
	std::optional<std::uint32_t> pick(const ChunkSet& open, const std::vector<std::uint64_t>& busy = {},
	                                  bool stuck = false) const;

private:
	static std::uint64_t score(std::uint64_t key, std::uint32_t chunk);

	std::vector<std::uint32_t> chunk_at_;
	std::uint64_t self_;
	std::vector<std::uint64_t> keys_;  // the other live downloaders
	std::vector<std::uint64_t> owner_; // per chunk: its owner's key
	std::vector<std::uint64_t> best_;  // per chunk: the owner's score
};

} // namespace p2pget
