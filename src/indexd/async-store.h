// The asynchronous side of an IndexStore whose state lives elsewhere
// (Redis): requests that need the shared state return at once and answer
// through a callback, on the same reactor, in the order they were asked.
// The in-memory PeerTable has none (IndexStore::async() is null) and keeps
// the synchronous path; sessions use this one only when it is there.
#pragma once

#include "index-store.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace indexd {

class AsyncStore {
public:
	using Done = std::function<void(p2p::ErrorCode)>;
	// `replaced`: a live registration with the same key that this one took
	// over (its PeerId here when it was ours, else none).
	using Added = std::function<void(PeerId id, p2p::ErrorCode, std::optional<PeerId> replaced)>;
	using Holders = std::function<void(p2p::ErrorCode, std::vector<p2p::PeerHolding>&)>;
	using Listed = std::function<void(p2p::ErrorCode, p2p::ListReply&)>;

	virtual ~AsyncStore() = default;
	// Why a request cannot start now (Unavailable: the store is away; Busy:
	// too many waiting), or None: then each call below answers later,
	// never from inside the call.
	virtual p2p::ErrorCode refusal() const = 0;
	// Registers `key` held by `files`, bound to `public_key` ("" unsigned);
	// the id is ours at once (updates may follow before `done`).
	virtual PeerId add(const PeerKey& key, const std::string& public_key, std::span<const p2p::FileEntry> files,
	                   double now, Added done) = 0;
	virtual void update(PeerId id, std::span<const p2p::FileEntry> added, std::span<const std::string> removed,
	                    double now, Done done) = 0;
	virtual void update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now, Done done) = 0;
	virtual void lookup(std::string_view name, std::size_t max, bool partial, Holders done) = 0;
	virtual void list(std::string_view after, std::uint32_t limit, std::size_t max_bytes, Listed done) = 0;
	// Reads the counts stats() gives afresh, then calls `done`.
	virtual void refresh_stats(Done done) = 0;
	// Our peers whose registration another indexd took over, or that the
	// store lost and could not write again: each is to be closed.
	virtual std::vector<PeerId> take_lost() = 0;
	// For STATS and logs: "redis://host:port/db", connected, in flight, errors.
	virtual std::string where() const = 0;
	virtual bool connected() const = 0;
	virtual std::uint64_t in_flight() const = 0;
	virtual std::uint64_t errors() const = 0;
};

} // namespace indexd
