// The index's state behind one small interface: which live peer holds which
// file. indexd uses the in-memory PeerTable by default (pure: no sockets,
// no clock, callers pass `now`); RedisStore shares the state between
// indexd processes, and adds the asynchronous calls of async-store.h.
#pragma once

#include "p2p/message.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace indexd {

using PeerId = std::uint32_t;

// A peer is its connection's source address plus the port it announced.
struct PeerKey {
	p2p::IpBytes host{};
	std::uint16_t port = 0;
	bool operator==(const PeerKey&) const = default;
};

struct AddResult {
	p2p::ErrorCode error = p2p::ErrorCode::None; // AddressInUse, Busy
	PeerId id = 0;                               // valid when error == None
};

struct StoreStats {
	std::uint64_t peers = 0;         // live peers
	std::uint64_t registrations = 0; // (peer, file) pairs
	std::uint64_t names = 0;         // distinct names
};

// One peer may not register more files than this, in either store (memory
// is the limit: about 230 bytes per registration in indexd, or in Redis).
inline constexpr std::size_t kMaxFilesPerPeer = 4u << 20;

class AsyncStore;

class IndexStore {
public:
	virtual ~IndexStore() = default;

	// The asynchronous calls, for a store whose state is elsewhere; null
	// for the in-memory one, which answers everything at once.
	virtual AsyncStore* async() { return nullptr; }

	// A new peer holding `files` (a later entry replaces an earlier one of
	// the same name). AddressInUse when `key` is already live; Busy (and
	// nothing kept) above the per-peer file limit.
	virtual AddResult add(const PeerKey& key, std::span<const p2p::FileEntry> files, double now) = 0;
	// Adds or replaces `added`, then drops `removed` (names it does not hold
	// are ignored). NotRegistered for an unknown id, Busy above the per-peer
	// file limit (what came before the limit is kept).
	virtual p2p::ErrorCode update(PeerId id, std::span<const p2p::FileEntry> added,
	                              std::span<const std::string> removed, double now) = 0;
	// Adds or replaces each entry as a partial holding (`chunks` verified);
	// errors as update().
	virtual p2p::ErrorCode update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now) = 0;
	// The live peer registered as `key`, if any (0 and false otherwise).
	virtual bool find(const PeerKey& key, PeerId& id) const = 0;
	// Forgets the peer and all its files. False when it was not live.
	virtual bool remove(PeerId id) = 0;
	// Something was heard from the peer.
	virtual void touch(PeerId id, double now) = 0;
	// Every live complete holder of `name` (at most `max`), and its partial
	// holders too when `partial`, into `out` (cleared first, so a caller can
	// reuse its capacity).
	virtual void lookup(std::string_view name, std::vector<p2p::PeerHolding>& out, std::size_t max,
	                    bool partial = false) const = 0;
	// A hint that these names are about to be looked up (a batch read off
	// one connection), so that their memory can be fetched side by side.
	virtual void prefetch(std::span<const std::string_view>) const {}
	// One page of names strictly after `after` in byte order: at most `limit`
	// names, one entry per (name, hash) with the count of its complete
	// holders (names only partly held are left out), within `max_bytes` of
	// encoded reply.
	virtual p2p::ListReply list(std::string_view after, std::uint32_t limit, std::size_t max_bytes) const = 0;
	// Removes every peer last heard before `heard_before`; returns their ids.
	virtual std::vector<PeerId> expire(double heard_before) = 0;
	virtual StoreStats stats() const = 0;
};

} // namespace indexd
