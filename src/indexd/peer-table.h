// The in-memory IndexStore. Names are kept once each, in an ordered map (for
// list paging) with a hash index beside it (for lookup); each name holds the
// small records of its holders, so a lookup touches only the peers that have
// the name. A peer keeps iterators to its names, so removing it costs its own
// file count, not the size of the index.
#pragma once

#include "index-store.h"
#include "name-index.h"
#include "peer-slots.h"

#include <map>
#include <unordered_map>

namespace indexd {

class PeerTable final : public IndexStore {
public:
	explicit PeerTable(std::size_t max_files_per_peer = kMaxFilesPerPeer) : max_files_(max_files_per_peer) {}
	PeerTable(const PeerTable&) = delete;
	PeerTable& operator=(const PeerTable&) = delete;

	AddResult add(const PeerKey& key, std::span<const p2p::FileEntry> files, double now) override;
	p2p::ErrorCode update(PeerId id, std::span<const p2p::FileEntry> added, std::span<const std::string> removed,
	                      double now) override;
	p2p::ErrorCode update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now) override;
	bool find(const PeerKey& key, PeerId& id) const override;
	bool remove(PeerId id) override;
	void touch(PeerId id, double now) override;
	void lookup(std::string_view name, std::vector<p2p::PeerHolding>& out, std::size_t max,
	            bool partial = false) const override;
	void prefetch(std::span<const std::string_view> names) const override;
	p2p::ListReply list(std::string_view after, std::uint32_t limit, std::size_t max_bytes) const override;
	std::vector<PeerId> expire(double heard_before) override;
	StoreStats stats() const override;

	// For tests and logs.
	bool live(PeerId id) const { return id < peers_.size() && peers_[id].live; }
	const PeerKey& key(PeerId id) const { return peers_[id].key; }
	std::size_t file_count(PeerId id) const { return live(id) ? peers_[id].files.size() : 0; }

private:
	// 56 bytes: who holds the name, which version, how much of it, and
	// where the name sits in that peer's own list (for O(1) removal).
	struct Holder {
		PeerId peer;
		std::uint32_t slot;
		std::uint64_t size;
		p2p::Hash hash;
		std::uint32_t chunks; // p2p::kCompleteHolding, or verified chunks
		bool complete() const { return chunks == p2p::kCompleteHolding; }
	};
	struct NameEntry {
		std::vector<Holder> holders;
	};
	using NameMap = std::map<std::string, NameEntry, std::less<>>;

	struct Peer {
		PeerKey key;
		double heard = 0;
		bool live = false;
		std::vector<NameMap::iterator> files;
	};
	struct KeyHash {
		std::size_t operator()(const PeerKey& k) const;
	};

	bool set_file(PeerId id, const p2p::FileEntry& file, std::uint32_t chunks = p2p::kCompleteHolding);
	void unset_file(PeerId id, std::string_view name);
	void drop_name_if_empty(NameMap::iterator it);
	static Holder* holder_of(NameEntry& entry, PeerId id);

	struct NameOf {
		std::string_view operator()(NameMap::iterator it) const { return it->first; }
	};

	std::size_t max_files_;
	NameMap names_;
	// Views the strings owned by names_ (map nodes never move).
	NameIndex<NameMap::iterator, NameOf> index_;
	PeerSlots<Peer> peers_;
	std::unordered_map<PeerKey, PeerId, KeyHash> by_key_;
	std::uint64_t live_peers_ = 0;
	std::uint64_t registrations_ = 0;
};

} // namespace indexd
