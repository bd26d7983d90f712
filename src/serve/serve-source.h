// What a chunk server may serve: the one interface between the server and
// whoever owns the files, so that a peer's fully shared files and a
// download in progress (only its verified chunks) go through the same code.
// The server asks on every request, so it always serves the source's
// present view; everything runs on the server's event loop.
#pragma once

#include "p2p/hash.h"
#include "p2p/protocol.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace serve {

// One file as it may be served now. The views point into the source's own
// state: the server uses them only while answering the request at hand.
struct ServedFile {
	std::uint64_t size = 0;
	p2p::Hash content{};                          // over the chunk hashes at chunk_size
	std::uint32_t chunk_size = p2p::kChunkSize;
	std::span<const p2p::Hash> chunk_hashes;      // every chunk's, for MANIFEST pages
	const std::vector<bool>* verified = nullptr;  // per chunk; nullptr: all of them

	std::uint32_t chunk_count() const { return static_cast<std::uint32_t>(chunk_hashes.size()); }
	bool chunk_verified(std::uint64_t chunk) const
	{
		return !verified || (chunk < verified->size() && (*verified)[chunk]);
	}
};

class ServeSource {
public:
	using Stats = std::vector<std::pair<std::string, std::uint64_t>>;

	virtual ~ServeSource() = default;

	// `name` as it may be served, or nullopt when it is not served here.
	virtual std::optional<ServedFile> find(const std::string& name) = 0;
	// Opens the bytes of `name` for reading, safely (never outside what the
	// source serves) and only if they are still the bytes find() described.
	// Returns an fd the server then owns, or -1 with errno: EMFILE or ENFILE
	// (out of descriptors: the server answers Busy), ESTALE (no longer the
	// file described: Changed), anything else (Changed, with strerror).
	virtual int open_file(const std::string& name) = 0;
	// open_file failed for a reason other than descriptors: the file may
	// have changed, look at it again.
	virtual void changed(const std::string& name) = 0;
	// The answer to STATS: every counter by name, in a fixed order.
	virtual Stats stats() const = 0;
	// Chunks of `name` its owner is fetching from a complete holder at
	// `now`: announced as FETCHING right after a HAVE_MAP, so that a client
	// that connects mid-fetch knows of them too.
	virtual std::vector<std::uint32_t> fetching(const std::string&, double) const { return {}; }
};

} // namespace serve
