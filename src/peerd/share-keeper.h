// Keeps the share table true to the directory: the first scan, rescans of
// the paths inotify reports (or all of DIR on SIGHUP), hashing through the
// pool with the cache in front of it, and saving the cache.
#pragma once

#include "counters.h"
#include "hash-cache.h"
#include "hash-pool.h"
#include "share-table.h"

#include "p2p/ev.h"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace peerd {

class ShareKeeper {
public:
	struct Hooks {
		std::function<void()> on_changed;                   // table has changes for the index
		std::function<void(const std::string& dir)> on_dir; // a folder to watch
		std::function<void()> on_ready;                     // first scan fully hashed
	};

	ShareKeeper(event_base* base, int root_fd, std::string dir, Counters& counters, Hooks hooks,
	            unsigned hash_threads = p2p::default_pool_threads());
	ShareKeeper(const ShareKeeper&) = delete;
	ShareKeeper& operator=(const ShareKeeper&) = delete;
	~ShareKeeper();

	// Loads the cache and scans DIR; hashing goes on in the background.
	bool start(std::string* error);
	// Looks again at these paths (files or folders, "" = all of DIR).
	void rescan(const std::vector<std::string>& paths);
	// A served file no longer matched its stat: look at it again soon.
	void recheck(const std::string& name);
	// Writes the cache now if anything changed since the last save.
	void save_cache();

	ShareTable& table() { return table_; }
	const ShareTable& table() const { return table_; }
	int root_fd() const { return root_fd_; }
	bool ready() const { return ready_; }
	std::size_t hashing() const { return hashing_.size(); }

private:
	struct InFlight {
		std::uint64_t id;
		FileStat st;
	};
	void full_scan();
	void rescan_one(const std::string& path);
	void consider(const std::string& name, const FileStat& st);
	bool being_written(const std::string& name);
	// Drops every shared or in-flight name equal to or under `path`, except `keep`.
	void remove_under(const std::string& path, const std::set<std::string>& keep = {});
	void on_hashed(std::shared_ptr<HashJob> job);
	void changed();
	void check_ready();
	void arm(event* ev, double seconds);
	static void retry_cb(evutil_socket_t, short, void* self);
	static void save_cb(evutil_socket_t, short, void* self);

	event_base* base_;
	int root_fd_;
	std::string dir_;
	std::string cache_path_;
	Counters& counters_;
	Hooks hooks_;
	ShareTable table_;
	HashCache cache_;
	std::map<std::string, InFlight> hashing_;
	std::set<std::string> retry_;
	std::set<std::string> writing_; // open for writing when last looked at
	bool ready_ = false;
	bool cache_dirty_ = false;
	bool have_cache_dir_ = false;
	std::uint64_t start_hashed_ = 0, start_cached_ = 0;
	std::chrono::steady_clock::time_point started_;
	p2p::EventPtr retry_ev_, save_ev_;
	std::unique_ptr<HashPool> pool_; // last: its threads stop first
};

} // namespace peerd
