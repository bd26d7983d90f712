// The IndexStore kept in Redis, shared by every indexd on that Redis. What
// this indexd knows locally is only its own connections' peers (their
// keys, owner tokens and files), so that it can refresh their expiry on
// their pings, drop them when they go, and write them again when Redis
// comes back empty; everything else is asked of Redis (async-store.h).
#pragma once

#include "async-store.h"
#include "peer-slots.h"
#include "redis-link.h"

#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace indexd {

class RedisStore final : public IndexStore, public AsyncStore {
public:
	// `ttl`: seconds a peer lives in Redis after it was last heard from.
	// `max_files`: per peer, as PeerTable's (Busy beyond it).
	RedisStore(event_base* base, RedisTarget target, double ttl, std::size_t max_waiting = 16384,
	           std::size_t max_files = kMaxFilesPerPeer);

	void start() { link_.start(); }
	AsyncStore* async() override { return this; }

	// IndexStore: our own peers; lookups and lists go through AsyncStore.
	AddResult add(const PeerKey& key, std::span<const p2p::FileEntry> files, double now) override;
	p2p::ErrorCode update(PeerId id, std::span<const p2p::FileEntry> added, std::span<const std::string> removed,
	                      double now) override;
	p2p::ErrorCode update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now) override;
	bool find(const PeerKey& key, PeerId& id) const override;
	bool remove(PeerId id) override;
	void touch(PeerId id, double now) override;
	void lookup(std::string_view name, std::vector<p2p::PeerHolding>& out, std::size_t max,
	            bool partial) const override;
	p2p::ListReply list(std::string_view after, std::uint32_t limit, std::size_t max_bytes) const override;
	std::vector<PeerId> expire(double heard_before) override;
	StoreStats stats() const override { return stats_; }

	// AsyncStore.
	p2p::ErrorCode refusal() const override;
	PeerId add(const PeerKey& key, const std::string& public_key, std::span<const p2p::FileEntry> files, double now,
	           Added done) override;
	void update(PeerId id, std::span<const p2p::FileEntry> added, std::span<const std::string> removed, double now,
	            Done done) override;
	void update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now, Done done) override;
	void lookup(std::string_view name, std::size_t max, bool partial, Holders done) override;
	void list(std::string_view after, std::uint32_t limit, std::size_t max_bytes, Listed done) override;
	std::vector<PeerId> take_lost() override;
	void refresh_stats(Done done) override;
	std::string where() const override { return link_.where(); }
	bool connected() const override { return link_.up(); }
	std::uint64_t in_flight() const override { return link_.in_flight(); }
	std::uint64_t errors() const override { return link_.errors(); }

private:
	struct Local {
		PeerKey key;
		std::string member; // 16 address bytes + port: the peer's id in Redis
		std::string public_key;
		std::string token;  // this registration's, unique across indexd
		std::map<std::string, std::string> files; // name -> 44-byte record
		double heard = 0, refreshed = 0;
		bool live = false;
	};
	using Records = std::vector<std::pair<std::string, std::string>>; // name, record
	PeerId new_local(const PeerKey& key);
	void drop_local(PeerId id);
	std::vector<std::string> register_args(const Local& p) const;
	void write_again();
	void on_added(PeerId id, const redisReply* r, Added& done);
	void send_update(PeerId id, Records set, std::span<const std::string> removed, double now, Done done);
	void owned_reply(PeerId id, const redisReply* r, Done& done);
	std::string ttl_ms() const { return std::to_string(static_cast<long long>(ttl_ * 1000)); }
	void refresh_stats(double now);
	void check_owned(double now);

	RedisLink link_;
	double ttl_;
	std::size_t max_waiting_;
	std::size_t max_files_;
	std::string instance_; // random: tells our tokens from other indexd's
	std::uint64_t next_token_ = 1;
	PeerSlots<Local> peers_;
	std::unordered_map<std::string, PeerId> by_member_; // live local peers
	std::unordered_map<std::string, PeerId> by_token_;
	std::vector<PeerId> lost_;
	StoreStats stats_;
	double last_sweep_ = 0;
	bool ever_up_ = false;
};

// The 18-byte id of a peer in Redis, and the 44-byte record of a holding.
std::string redis_member(const PeerKey& key);
std::string redis_record(std::uint64_t size, const p2p::Hash& hash, std::uint32_t chunks);
// A record back into a holding of `member`; false when malformed.
bool parse_holding(std::string_view member, std::string_view record, p2p::PeerHolding& out);

} // namespace indexd
