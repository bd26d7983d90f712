// One file's download: picks the version most peers hold, gets and checks
// the manifest, then runs the chunk plan over one PeerFetch per peer,
// writing into a PartialFile and verifying every chunk on the hash pool.
#pragma once

#include "chunk-plan.h"
#include "hash-pool.h"
#include "partial-file.h"
#include "peer-fetch.h"

#include "p2p/message.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

class Engine;

struct FileResult {
	enum class Status { Pending, Ok, Missing, Failed, IndexDown, Interrupted };
	std::string name;
	Status status = Status::Pending;
	std::string error;
	std::uint64_t size = 0;
	p2p::Hash hash{};
	std::size_t versions = 0; // distinct (size, hash) versions in the index
	std::size_t peers = 0;    // peers holding the chosen version
	double seconds = 0;
	std::uint64_t fetched = 0; // bytes received from peers (all copies)
	std::uint64_t resumed = 0; // bytes found on disk: partial file or older copy
	std::uint64_t retries = 0;
	std::uint64_t duplicates = 0;
	std::uint64_t bad_chunks = 0;
	std::vector<std::pair<std::string, std::uint64_t>> peer_bytes;
};

class Download {
public:
	static constexpr ChunkPlan::PeerId kLocal = static_cast<ChunkPlan::PeerId>(-1);

	Download(Engine& engine, std::size_t id, std::string name);
	Download(const Download&) = delete;
	Download& operator=(const Download&) = delete;
	~Download();

	// The index's answer (LOOKUP_REPLY or HOLDERS_REPLY); nullptr when the
	// index could not be asked.
	void on_lookup(const p2p::Message* reply, const std::string& error);
	// A later HOLDERS_REPLY: holders of our version not met yet join in.
	void on_holders(const p2p::HoldersReply& reply);
	void on_verified(const VerifyResult& r);
	// SIGINT or SIGTERM: stop now; the partial file keeps what is verified.
	void interrupt() { fail(FileResult::Status::Interrupted, "interrupted"); }

	// From PeerFetch.
	void on_peer_connected(PeerFetch& peer);
	void on_peer_closed(PeerFetch& peer, const std::string& reason, bool bad_data);
	void on_manifest(PeerFetch& peer, const p2p::Manifest& m);
	// A partial holder's chunks: all it has, then one more at a time.
	p2p::HaveRequest have_request() const { return {result_.name, result_.size, result_.hash}; }
	void on_have_map(PeerFetch& peer, const std::vector<bool>& have);
	void on_have(PeerFetch& peer, std::uint32_t chunk);
	void on_fetching(PeerFetch& peer, std::uint32_t chunk);
	bool write_chunk_bytes(const void* data, std::size_t len, std::uint64_t offset);
	int file_fd() const { return file_->fd(); }
	void on_bytes(std::size_t n);
	void on_chunk_written(PeerFetch& peer, std::uint32_t chunk);
	// A seed answered a spare request: it sent `chunk` to another just now.
	void on_chunk_taken(PeerFetch& peer, std::uint32_t chunk);
	void on_chunk_buffered(PeerFetch& peer, std::uint32_t chunk, const std::vector<std::byte>& bytes);
	void pump();

	bool finished() const { return result_.status != FileResult::Status::Pending; }
	const FileResult& result() const { return result_; }
	const std::string& name() const { return result_.name; }
	// For the progress display.
	std::uint64_t size() const { return result_.size; }
	std::uint64_t done_bytes() const { return done_bytes_; }
	std::size_t active_peers() const;
	bool size_known() const { return manifest_ready_ || finished(); }
	// For serving what is verified (download-observer.h): valid once the
	// manifest is ready.
	std::uint32_t chunk_size() const { return chunk_size_; }
	const std::vector<p2p::Hash>& chunk_hashes() const { return chunk_hashes_; }

private:
	// Picks the version, then connects to its holders.
	void start(const std::vector<p2p::PeerHolding>& holders);
	void add_holder(const p2p::PeerHolding& holder);
	void join_plan(PeerFetch& peer);
	// The index lists us at `holder`: our key for stripes.
	void found_self(const p2p::PeerHolding& holder);
	void ask_manifest();
	void manifest_complete();
	void bad_peer(PeerFetch& peer, const std::string& why);
	void check_progress();
	void wake_at(double now, double at);
	// Endgame: how often an idle peer looks again for a copy old enough.
	static constexpr double kCopyPoll = 0.1;
	bool rejoin_holders();
	std::size_t depth_for(const PeerFetch& p, double now) const;
	// How long other downloaders take to appear in our lookups.
	static constexpr double kFirstLookups = 1.5;
	void collect_peer_bytes();
	static constexpr std::uint32_t kMaxRejoins = 2;
	void succeed();
	void fail(FileResult::Status status, const std::string& error);
	// The one path of a chunk verified from a peer; false if stale or the
	// download failed.
	bool settle(ChunkPlan::PeerId winner, std::uint32_t chunk, const std::vector<std::byte>* buffered);
	// Writes the chunk's mark in the sidecar, or fails the download.
	bool record_verified(std::uint32_t chunk);
	void close_peers();
	static void wake_cb(evutil_socket_t, short, void* self);
	std::uint64_t chunk_offset(std::uint32_t chunk) const;
	std::uint32_t chunk_length(std::uint32_t chunk) const;
	PeerFetch* peer(ChunkPlan::PeerId id);

	Engine& engine_;
	std::size_t id_;
	FileResult result_;
	double started_ = 0;
	std::uint32_t chunk_size_ = 0;
	std::vector<p2p::Hash> chunk_hashes_;
	bool manifest_ready_ = false;
	PeerFetch* manifest_peer_ = nullptr;
	std::string last_peer_error_;
	std::uint64_t done_bytes_ = 0;
	std::size_t local_checks_ = 0; // resume checks on the hash pool
	std::optional<ChunkPlan> plan_;
	std::uint64_t self_key_ = 0;
	std::shared_ptr<PartialFile> file_;
	std::vector<std::unique_ptr<PeerFetch>> peers_; // index = plan PeerId
	p2p::EventPtr wake_timer_; // re-plans when the plan may change its mind (wake_at)
	double wake_at_ = 0;
};

} // namespace p2pget
