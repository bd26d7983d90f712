// The download engine: one libevent reactor runs every download at once,
// plus the index link and the hash pool. Usable without the command line:
// give it options and names, get one FileResult per name.
#pragma once

#include "download.h"
#include "download-observer.h"
#include "hash-pool.h"
#include "index-link.h"
#include "peer-buffers.h"
#include "peer-fetch.h"

#include "p2p/address.h"
#include "p2p/ev.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

struct EngineOptions {
	std::vector<p2p::HostPort> index{{"127.0.0.1", p2p::kIndexPort}}; // asked in order
	std::filesystem::path out_dir = ".";
	double timeout = 15.0;
	// Chunk requests in flight per peer connection: enough to keep the
	// pipe busy across the round trip (see tools/bench.sh).
	std::size_t depth = 3;
	int dup_buffers = 4; // endgame duplicates held in memory, process wide
	unsigned hash_threads = 2;
	bool notes = true; // print notes ("2 versions...") on stderr
	// Closed cluster: every frame to and from the index and the peers is
	// MAC'd with it (chunk bytes are not).
	std::optional<p2p::SecretKey> secret;
};

struct Progress {
	std::size_t files = 0, files_done = 0;
	std::uint64_t total = 0; // bytes of the files whose size is known
	std::uint64_t done = 0;  // verified bytes
	std::uint64_t received = 0;
	std::size_t peers = 0; // connections with requests in flight
	double elapsed = 0;
	std::string current; // a file still in progress, for the display
};

class Engine {
public:
	explicit Engine(EngineOptions options);
	Engine(const Engine&) = delete;
	Engine& operator=(const Engine&) = delete;
	~Engine();

	// Downloads every name at once; returns when all are finished.
	// `on_progress` (optional) is called about four times a second.
	std::vector<FileResult> download(const std::vector<std::string>& names,
	                                 std::function<void(const Progress&)> on_progress = {});
	// One request to the index, for --list and --lookup: the reply, or
	// nullopt with `error` when the index cannot be reached.
	std::optional<p2p::Message> ask_index(const p2p::Message& request, std::string& error);

	// For Download and PeerFetch.
	event_base* base() const { return base_.get(); }
	const EngineOptions& options() const { return options_; }
	const p2p::SecretKey* secret() const { return options_.secret ? &*options_.secret : nullptr; }
	// The index refused us, or failed our MAC check (closed cluster).
	bool index_refused() const { return index_ && index_->refused(); }
	double now() const;
	// A fresh seed for a chunk plan's order among equals.
	std::uint64_t random() const;
	// Whether `addr` is this process's own chunk server (the index lists us
	// among the holders while we serve).
	bool is_self(const p2p::SockAddr& addr) const;
	void set_serve_port(std::uint16_t port);
	// The index lists partial holders: other downloaders may join.
	bool swarming() const { return index_features_ & p2p::kFeaturePartialHolders; }
	// `d` asked a seed for `chunk`: what we serve says so (FETCHING).
	void fetching(Download& d, std::uint32_t chunk);
	HashPool& pool() { return *pool_; }
	DupBudget& dup_budget() { return budget_; }
	// The read buffer and splice pipe every peer connection shares.
	PeerBuffers& peer_buffers() { return peer_buffers_; }
	void on_bytes(std::size_t n) { received_ += n; }
	void finished(Download& d);
	void note(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
	void count(const std::string& counter) { counters_[counter]++; }
	const std::map<std::string, std::uint64_t>& counters() const { return counters_; }
	// The signal that interrupted download(), or 0.
	int interrupted_by() const { return interrupted_by_; }
	// Who hears what the downloads verify (nullptr: nobody), to serve it.
	void set_observer(DownloadObserver* o) { observer_ = o; }
	DownloadObserver* observer() const { return observer_; }

private:
	static void tick_cb(evutil_socket_t, short, void* self);
	static void refresh_cb(evutil_socket_t, short, void* self);
	void lookup_all(std::size_t first);
	void arm_refresh();
	void refresh_holders();
	static void signal_cb(evutil_socket_t sig, short, void* self);
	void on_tick();
	Progress progress() const;

	EngineOptions options_;
	p2p::EventBasePtr base_;
	DupBudget budget_;
	PeerBuffers peer_buffers_; // before downloads_: outlives every PeerConn
	std::uint64_t received_ = 0;
	std::uint64_t index_features_ = 0; // as its STATS_REPLY stated them
	std::uint16_t serve_port_ = 0;     // 0: not serving
	std::vector<p2p::IpBytes> own_ips_;
	std::vector<bool> refreshing_;     // per download: a LOOKUP_HOLDERS out
	std::size_t unfinished_ = 0;
	int interrupted_by_ = 0;
	DownloadObserver* observer_ = nullptr;
	double started_ = 0;
	std::map<std::string, std::uint64_t> counters_;
	std::function<void(const Progress&)> on_progress_;
	std::vector<std::unique_ptr<Download>> downloads_;
	p2p::EventPtr tick_;
	p2p::EventPtr refresh_; // asks the index for new holders while downloads run
	p2p::EventPtr sigint_, sigterm_; // stop every download, keeping its partial file
	std::unique_ptr<HashPool> pool_;
	std::unique_ptr<IndexLink> index_;
};

} // namespace p2pget
