// inotify on DIR and every folder under it (folders made later too). Events
// are reduced to the paths that need a fresh look and handed over in one
// batch once a burst has settled, so a copy of a thousand files makes one
// rescan and one update, well within the 2 s the index is promised.
#pragma once

#include "p2p/ev.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace peerd {

class DirWatch {
public:
	// `changed` gets relative paths ("" = everything, after an overflow).
	using Changed = std::function<void(const std::vector<std::string>& paths)>;

	DirWatch(event_base* base, std::string dir, Changed changed);
	DirWatch(const DirWatch&) = delete;
	DirWatch& operator=(const DirWatch&) = delete;
	~DirWatch();

	bool ok() const { return fd_ >= 0; }
	// Watches the folder `rel` ("" = DIR); idempotent.
	void watch(const std::string& rel);
	std::size_t watches() const { return paths_.size(); }

private:
	static void read_cb(evutil_socket_t, short, void* self);
	static void settle_cb(evutil_socket_t, short, void* self);
	void on_read();
	void unwatch_under(const std::string& rel);
	void mark(const std::string& rel);
	void mark_if_quiet(const std::string& rel, bool created);
	void take_quiet(std::vector<std::string>& paths);

	std::string dir_;
	Changed changed_;
	int fd_ = -1;
	std::map<int, std::string> paths_; // wd -> folder relative to DIR
	std::set<std::string> dirty_;
	// Files that appeared (true) or were written to (false) without a close
	// after writing: announced at the settle only if nobody writes them.
	std::map<std::string, bool> quiet_;
	p2p::EventPtr read_ev_, settle_ev_;
};

// Time from the first event of a burst to the rescan.
inline constexpr double kSettleDelay = 0.25;

} // namespace peerd
