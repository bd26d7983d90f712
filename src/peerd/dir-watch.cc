// The inotify reader: keeps wd -> folder, turns events into dirty paths.
#include "dir-watch.h"

#include "write-probe.h"

#include "p2p/log.h"

#include <cerrno>
#include <cstring>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerd {

// Files count once closed after writing or moved in (never while still
// being written); folders as soon as they appear, so their own contents
// are watched from the start. A file that appears without being written
// here (a hard link, linkat() of an O_TMPFILE) or changes without a close
// (truncate(2)) gives only IN_CREATE or IN_MODIFY: it counts when nobody
// has it open for writing.
inline constexpr std::uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
                                       IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR |
                                       IN_DONT_FOLLOW;

DirWatch::DirWatch(event_base* base, std::string dir, Changed changed)
	: dir_(std::move(dir)), changed_(std::move(changed))
{
	fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd_ < 0) {
		log_warn("inotify: %s (changes under %s will be seen only on SIGHUP)", std::strerror(errno), dir_.c_str());
		return;
	}
	read_ev_.reset(event_new(base, fd_, EV_READ | EV_PERSIST, read_cb, this));
	settle_ev_.reset(evtimer_new(base, settle_cb, this));
	event_add(read_ev_.get(), nullptr);
}

DirWatch::~DirWatch()
{
	read_ev_.reset();
	if (fd_ >= 0)
		close(fd_);
}

void DirWatch::watch(const std::string& rel)
{
	if (fd_ < 0)
		return;
	std::string path = rel.empty() ? dir_ : dir_ + "/" + rel;
	int wd = inotify_add_watch(fd_, path.c_str(), kMask);
	if (wd < 0) {
		if (errno == ENOSPC)
			log_warn("inotify: out of watches at %s (raise fs.inotify.max_user_watches)", path.c_str());
		else if (errno != ENOENT && errno != ENOTDIR)
			log_warn("inotify: %s: %s", path.c_str(), std::strerror(errno));
		return;
	}
	paths_[wd] = rel; // the same folder gives back the same wd
}

void DirWatch::unwatch_under(const std::string& rel)
{
	std::string prefix = rel + "/";
	for (auto it = paths_.begin(); it != paths_.end();) {
		if (it->second == rel || it->second.starts_with(prefix)) {
			inotify_rm_watch(fd_, it->first);
			it = paths_.erase(it);
		} else {
			++it;
		}
	}
}

void DirWatch::mark(const std::string& rel)
{
	dirty_.insert(rel);
	// Armed by the first event of a burst and not pushed back by later
	// ones, so a steady stream of events still gets announced in time.
	if (!evtimer_pending(settle_ev_.get(), nullptr)) {
		timeval tv = p2p::to_timeval(kSettleDelay);
		evtimer_add(settle_ev_.get(), &tv);
	}
}

void DirWatch::mark_if_quiet(const std::string& rel, bool created)
{
	auto [it, fresh] = quiet_.emplace(rel, created);
	if (!fresh && created)
		it->second = true;
	if (!evtimer_pending(settle_ev_.get(), nullptr)) {
		timeval tv = p2p::to_timeval(kSettleDelay);
		evtimer_add(settle_ev_.get(), &tv);
	}
}

// Of the quiet candidates, those nobody writes. When the kernel will not say
// (not our file, no CAP_LEASE), a file that appeared with a second link
// came whole; anything else waits for its close.
void DirWatch::take_quiet(std::vector<std::string>& paths)
{
	for (auto& [rel, created] : quiet_) {
		if (dirty_.count(rel))
			continue;
		std::string path = dir_ + "/" + rel;
		Writers w = writers_of(path);
		struct stat st;
		bool linked = created && ::lstat(path.c_str(), &st) == 0 && st.st_nlink > 1;
		if (w == Writers::None || (w == Writers::Unknown && linked))
			paths.push_back(rel);
	}
	quiet_.clear();
}

void DirWatch::read_cb(evutil_socket_t, short, void* self) { static_cast<DirWatch*>(self)->on_read(); }

void DirWatch::on_read()
{
	alignas(inotify_event) char buf[65536];
	while (true) {
		ssize_t n = read(fd_, buf, sizeof buf);
		if (n <= 0)
			return;
		for (char* p = buf; p < buf + n;) {
			auto* e = reinterpret_cast<inotify_event*>(p);
			p += sizeof(inotify_event) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				log_info("inotify: queue overflow; rescanning everything");
				mark("");
				continue;
			}
			auto it = paths_.find(e->wd);
			if (it == paths_.end())
				continue;
			if (e->mask & IN_IGNORED) {
				paths_.erase(it);
				continue;
			}
			std::string folder = it->second;
			if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
				if (folder.empty())
					log_warn("%s itself was moved or deleted", dir_.c_str());
				continue;
			}
			if (e->len == 0 || e->name[0] == '.' || e->name[0] == '\0')
				continue; // hidden: our cache, partial downloads, editors' temp files
			std::string rel = folder.empty() ? std::string(e->name) : folder + "/" + e->name;
			bool is_dir = e->mask & IN_ISDIR;
			if (is_dir && (e->mask & (IN_MOVED_FROM | IN_DELETE)))
				unwatch_under(rel);
			if (is_dir && (e->mask & (IN_CREATE | IN_MOVED_TO)))
				watch(rel); // now, before files land in it; the rescan walks it
			if (!is_dir && (e->mask & (IN_CREATE | IN_MODIFY))) {
				mark_if_quiet(rel, e->mask & IN_CREATE);
				continue;
			}
			mark(rel);
		}
	}
}

void DirWatch::settle_cb(evutil_socket_t, short, void* self)
{
	auto* w = static_cast<DirWatch*>(self);
	std::vector<std::string> paths(w->dirty_.begin(), w->dirty_.end());
	w->take_quiet(paths);
	w->dirty_.clear();
	if (!paths.empty())
		w->changed_(paths);
}

} // namespace peerd
