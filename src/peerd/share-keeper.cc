// Scans, rescans and hashing results: everything that changes the table.
#include "share-keeper.h"

#include "write-probe.h"

#include "serve/safe-open.h"
#include "share-scan.h"

#include "p2p/log.h"
#include "p2p/names.h"

#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

namespace peerd {

// Settle time before a file that failed (changed while hashed, or while
// served) is looked at again.
inline constexpr double kRetryDelay = 0.3;
// Cache writes are coalesced: at most one every this many seconds.
inline constexpr double kSaveDelay = 2.0;

ShareKeeper::ShareKeeper(event_base* base, int root_fd, std::string dir, Counters& counters, Hooks hooks,
                         unsigned hash_threads)
	: base_(base), root_fd_(root_fd), dir_(std::move(dir)), counters_(counters), hooks_(std::move(hooks)),
	  retry_ev_(evtimer_new(base, retry_cb, this)), save_ev_(evtimer_new(base, save_cb, this)),
	  pool_(std::make_unique<HashPool>(base, root_fd, hash_threads,
	                                   [this](std::shared_ptr<HashJob> job) { on_hashed(std::move(job)); }))
{
	cache_path_ = dir_ + "/.peerd/hashes";
}

ShareKeeper::~ShareKeeper() = default;

bool ShareKeeper::start(std::string* error)
{
	started_ = std::chrono::steady_clock::now();
	if (!pool_->ok()) {
		*error = "cannot start the hash workers";
		return false;
	}
	if (mkdirat(root_fd_, ".peerd", 0755) == 0 || errno == EEXIST)
		have_cache_dir_ = true;
	else
		log_warn("%s/.peerd: %s (hashes will not be cached)", dir_.c_str(), std::strerror(errno));
	if (cache_.load(cache_path_))
		log_debug("hash cache: %zu entries from %s", cache_.size(), cache_path_.c_str());
	ScanResult probe;
	if (!scan_share(root_fd_, "", probe, error))
		return false;
	full_scan();
	log_info("scanned %s: %zu files, %zu to hash on %u threads", dir_.c_str(), table_.size() + hashing_.size(),
	         hashing_.size(), pool_->threads());
	check_ready();
	return true;
}

void ShareKeeper::full_scan()
{
	ScanResult r;
	std::string err;
	if (!scan_share(root_fd_, "", r, &err)) {
		log_error("cannot scan %s: %s", dir_.c_str(), err.c_str());
		return;
	}
	std::set<std::string> seen;
	for (auto& f : r.files) {
		consider(f.name, f.st);
		seen.insert(f.name);
	}
	remove_under("", seen);
	if (hooks_.on_dir)
		for (auto& d : r.dirs)
			hooks_.on_dir(d);
}

void ShareKeeper::rescan(const std::vector<std::string>& paths)
{
	counters_.rescans++;
	for (auto& p : paths) {
		if (p.empty()) {
			full_scan();
			return;
		}
	}
	for (auto& p : paths)
		rescan_one(p);
}

void ShareKeeper::rescan_one(const std::string& path)
{
	struct stat st;
	if (!p2p::is_safe_name(path) || serve::stat_beneath(root_fd_, path, st) != 0) {
		remove_under(path);
		return;
	}
	if (S_ISREG(st.st_mode)) {
		consider(path, file_stat(st));
		remove_under(path, {path}); // a folder replaced by a file
	} else if (S_ISDIR(st.st_mode)) {
		ScanResult r;
		if (!scan_share(root_fd_, path, r)) {
			remove_under(path);
			return;
		}
		std::set<std::string> seen;
		for (auto& f : r.files) {
			consider(f.name, f.st);
			seen.insert(f.name);
		}
		remove_under(path, seen);
		if (hooks_.on_dir)
			for (auto& d : r.dirs)
				hooks_.on_dir(d);
	} else {
		remove_under(path); // a link or a special file is never shared
	}
}

// A file someone has open for writing is not shared until nobody does; it is
// looked at again until then. Polled rather than left to inotify: a file
// opened before any watch existed on its file system gives no events at
// all on newer kernels, not even IN_CLOSE_WRITE.
bool ShareKeeper::being_written(const std::string& name)
{
	int fd = serve::open_beneath(root_fd_, name, O_RDONLY | O_NONBLOCK);
	bool busy = fd >= 0 && writers_of(fd) == Writers::Some;
	if (fd >= 0)
		::close(fd);
	if (!busy) {
		writing_.erase(name);
		return false;
	}
	if (writing_.insert(name).second)
		log_info("%s: open for writing; shared once closed", name.c_str());
	recheck(name);
	return true;
}

void ShareKeeper::consider(const std::string& name, const FileStat& st)
{
	auto in = hashing_.find(name);
	if (const SharedFile* f = table_.find(name); f && f->st == st) {
		if (in != hashing_.end())
			hashing_.erase(in); // back to what we have: drop the newer job
		return;
	}
	if (in != hashing_.end() && in->second.st == st)
		return; // already being hashed in this version
	if (auto c = cache_.lookup(name, st)) {
		if (in != hashing_.end())
			hashing_.erase(in);
		counters_.files_from_cache++;
		if (!ready_)
			start_cached_++;
		table_.put(std::move(*c));
		changed();
		return;
	}
	// Asked only before hashing: a cached hash still matches the bytes,
	// whoever has the file open.
	if (being_written(name))
		return;
	hashing_[name] = {pool_->submit(name, st), st};
}

void ShareKeeper::remove_under(const std::string& path, const std::set<std::string>& keep)
{
	bool any = false;
	for (auto& name : table_.names_under(path)) {
		if (keep.count(name))
			continue;
		table_.erase(name);
		log_debug("%s: no longer shared", name.c_str());
		any = true;
	}
	std::string prefix = path.empty() ? "" : path + "/";
	for (auto it = hashing_.begin(); it != hashing_.end();) {
		bool under = path.empty() || it->first == path || it->first.starts_with(prefix);
		if (under && !keep.count(it->first))
			it = hashing_.erase(it);
		else
			++it;
	}
	if (any) {
		cache_dirty_ = true;
		changed();
	}
	check_ready();
}

void ShareKeeper::on_hashed(std::shared_ptr<HashJob> job)
{
	auto it = hashing_.find(job->name);
	if (it == hashing_.end() || it->second.id != job->id)
		return; // superseded by a newer look at the file
	hashing_.erase(it);
	int err = job->error.load();
	if (err != 0) {
		counters_.hash_failures++;
		if (err == ESTALE) {
			log_debug("%s: changed while hashing; looking again", job->name.c_str());
			recheck(job->name);
		} else if (err == ENOENT || err == ELOOP || err == ENOTDIR || err == EXDEV) {
			remove_under(job->name, {});
		} else {
			log_warn("%s: cannot hash: %s", job->name.c_str(), std::strerror(err));
		}
	} else {
		counters_.files_hashed++;
		counters_.bytes_hashed += job->st.size;
		if (!ready_)
			start_hashed_++;
		log_debug("%s: hashed %" PRIu64 " bytes, %zu chunks, %s", job->name.c_str(), job->st.size,
		          job->chunks.size(), p2p::to_hex(job->content).c_str());
		SharedFile f{job->name, job->st, std::move(job->chunks), job->content};
		cache_.remember(f);
		table_.put(std::move(f));
		cache_dirty_ = true;
		changed();
	}
	check_ready();
}

void ShareKeeper::check_ready()
{
	if (ready_ || !hashing_.empty() || started_ == std::chrono::steady_clock::time_point())
		return;
	ready_ = true;
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
	log_info("ready: sharing %zu files; hashed %" PRIu64 " files, %" PRIu64 " from cache, in %.3f s",
	         table_.size(), start_hashed_, start_cached_, secs);
	if (cache_dirty_ || cache_.size() != table_.size())
		save_cache();
	if (hooks_.on_ready)
		hooks_.on_ready();
}

void ShareKeeper::changed()
{
	if (hooks_.on_changed)
		hooks_.on_changed();
	if (ready_ && cache_dirty_ && !evtimer_pending(save_ev_.get(), nullptr))
		arm(save_ev_.get(), kSaveDelay);
}

void ShareKeeper::recheck(const std::string& name)
{
	retry_.insert(name);
	if (!evtimer_pending(retry_ev_.get(), nullptr))
		arm(retry_ev_.get(), kRetryDelay);
}

void ShareKeeper::save_cache()
{
	if (!have_cache_dir_)
		return;
	std::string err;
	if (!HashCache::save(cache_path_, table_, &err)) {
		log_warn("cannot save the hash cache: %s", err.c_str());
		return;
	}
	cache_.replace(table_);
	cache_dirty_ = false;
	log_debug("hash cache saved: %zu entries", table_.size());
}

void ShareKeeper::arm(event* ev, double seconds)
{
	timeval tv = p2p::to_timeval(seconds);
	evtimer_add(ev, &tv);
}

void ShareKeeper::retry_cb(evutil_socket_t, short, void* self)
{
	auto* k = static_cast<ShareKeeper*>(self);
	std::vector<std::string> paths(k->retry_.begin(), k->retry_.end());
	k->retry_.clear();
	k->rescan(paths);
}

void ShareKeeper::save_cb(evutil_socket_t, short, void* self)
{
	auto* k = static_cast<ShareKeeper*>(self);
	if (k->cache_dirty_)
		k->save_cache();
}

} // namespace peerd
