// Partial file + sidecar; see partial-file.h. Sidecar layout: a fixed
// 128-byte text header "p2pget-partial 1 SIZE CHUNK_SIZE HASH\n" (space
// padded), then one byte per chunk, '1' once verified. A chunk is recorded
// with a single-byte pwrite, so an interruption never leaves a half record.
#include "partial-file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace p2pget {

namespace {

constexpr std::size_t kHeaderLen = 128;

std::string header_for(std::uint64_t size, std::uint32_t chunk_size, const p2p::Hash& content)
{
	char buf[kHeaderLen + 1];
	int n = std::snprintf(buf, sizeof buf, "p2pget-partial 1 %llu %u %s", static_cast<unsigned long long>(size),
	                      chunk_size, p2p::to_hex(content).c_str());
	std::string h(buf, static_cast<std::size_t>(n));
	h.resize(kHeaderLen - 1, ' ');
	h += '\n';
	return h;
}

std::string sys_error(const std::string& what, const fs::path& path)
{
	return what + " " + path.string() + ": " + std::strerror(errno);
}

bool pwrite_all(int fd, const void* data, std::size_t len, std::uint64_t offset)
{
	auto p = static_cast<const char*>(data);
	while (len > 0) {
		ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(offset));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (n == 0) {
			errno = ENOSPC;
			return false;
		}
		p += n;
		len -= static_cast<std::size_t>(n);
		offset += static_cast<std::uint64_t>(n);
	}
	return true;
}

} // namespace

PartialFile::Room PartialFile::room_for(const fs::path& out_dir, const std::string& name, std::uint64_t size)
{
	Room r;
	struct stat st{};
	std::uint64_t held = 0;
	if (::stat(partial_path_for(out_dir, name).c_str(), &st) == 0)
		held = static_cast<std::uint64_t>(st.st_blocks) * 512;
	r.need = size - std::min(size, held);
	r.on = (out_dir / name).parent_path();
	std::error_code ec;
	while (!r.on.empty() && !fs::exists(r.on, ec) && r.on.has_parent_path() && r.on != r.on.parent_path())
		r.on = r.on.parent_path();
	struct statvfs vfs{};
	if (::statvfs(r.on.empty() ? "." : r.on.c_str(), &vfs) == 0)
		r.free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
	else
		r.free = r.need; // cannot tell: let the writes say
	return r;
}

fs::path PartialFile::partial_path_for(const fs::path& out_dir, const std::string& name)
{
	fs::path rel(name);
	return out_dir / rel.parent_path() / ("." + rel.filename().string() + ".p2part");
}

fs::path PartialFile::sidecar_path_for(const fs::path& out_dir, const std::string& name)
{
	fs::path rel(name);
	return out_dir / rel.parent_path() / ("." + rel.filename().string() + ".p2state");
}

std::unique_ptr<PartialFile> PartialFile::open(const fs::path& out_dir, const std::string& name, std::uint64_t size,
                                               std::uint32_t chunk_size, const p2p::Hash& content,
                                               std::string& error)
{
	std::unique_ptr<PartialFile> pf(new PartialFile());
	pf->final_ = out_dir / name;
	pf->partial_ = partial_path_for(out_dir, name);
	pf->sidecar_ = sidecar_path_for(out_dir, name);
	// What this call creates goes again if it fails: a full disk must not
	// leave empty sidecars behind.
	bool had_partial = fs::exists(pf->partial_), had_sidecar = fs::exists(pf->sidecar_);
	auto give_up = [&] {
		std::error_code ignored;
		if (!had_partial && pf->fd_ >= 0)
			fs::remove(pf->partial_, ignored);
		if (!had_sidecar && pf->state_fd_ >= 0)
			fs::remove(pf->sidecar_, ignored);
		return nullptr;
	};
	std::error_code ec;
	fs::create_directories(pf->final_.parent_path(), ec);
	if (ec) {
		error = "cannot create folder " + pf->final_.parent_path().string() + ": " + ec.message();
		return nullptr;
	}
	pf->fd_ = ::open(pf->partial_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pf->fd_ < 0) {
		error = sys_error("cannot open", pf->partial_);
		return give_up();
	}
	if (::flock(pf->fd_, LOCK_EX | LOCK_NB) != 0) {
		error = "another p2pget is writing " + pf->partial_.string();
		return give_up();
	}
	pf->state_fd_ = ::open(pf->sidecar_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pf->state_fd_ < 0) {
		error = sys_error("cannot open", pf->sidecar_);
		return give_up();
	}
	if (!pf->load_state(size, chunk_size, content, error))
		return give_up();
	pf->open_seed();
	return pf;
}

// Resume only when the sidecar describes this exact version and the partial
// file has its full length; else both start afresh.
bool PartialFile::load_state(std::uint64_t size, std::uint32_t chunk_size, const p2p::Hash& content,
                             std::string& error)
{
	std::uint32_t chunks = p2p::chunk_count(size, chunk_size);
	std::string header = header_for(size, chunk_size, content);
	recorded_.assign(chunks, false);

	std::vector<char> state(kHeaderLen + chunks);
	ssize_t got = ::pread(state_fd_, state.data(), state.size(), 0);
	struct stat st{};
	bool resume = got == static_cast<ssize_t>(state.size()) &&
	              std::memcmp(state.data(), header.data(), kHeaderLen) == 0 && ::fstat(fd_, &st) == 0 &&
	              static_cast<std::uint64_t>(st.st_size) == size;
	if (resume) {
		for (std::uint32_t i = 0; i < chunks; i++)
			recorded_[i] = state[kHeaderLen + i] == '1';
	} else {
		std::string fresh = header + std::string(chunks, '0');
		if (::ftruncate(state_fd_, 0) != 0 || !pwrite_all(state_fd_, fresh.data(), fresh.size(), 0)) {
			error = sys_error("cannot write", sidecar_);
			return false;
		}
		// Stale bytes of another version must not survive: start empty.
		if (::ftruncate(fd_, 0) != 0) {
			error = sys_error("cannot truncate", partial_);
			return false;
		}
	}
	// Sparse full length up front: a file too large for the file system
	// (EFBIG) fails here, before any byte is fetched.
	if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
		error = sys_error("cannot size", partial_);
		return false;
	}
	return true;
}

// An older copy at the output path, whose matching chunks need no fetch.
void PartialFile::open_seed()
{
	struct stat st{};
	// Not through a symlink: the seed is the file the rename will replace.
	// O_NONBLOCK: a FIFO there must not hang us; it is then refused below.
	seed_fd_ = ::open(final_.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (seed_fd_ >= 0) {
		if (::fstat(seed_fd_, &st) == 0 && S_ISREG(st.st_mode)) {
			seed_size_ = static_cast<std::uint64_t>(st.st_size);
		} else {
			::close(seed_fd_);
			seed_fd_ = -1;
		}
	}
}

PartialFile::~PartialFile()
{
	if (fd_ >= 0)
		::close(fd_);
	if (state_fd_ >= 0)
		::close(state_fd_);
	if (seed_fd_ >= 0)
		::close(seed_fd_);
}

bool PartialFile::write(const void* data, std::size_t len, std::uint64_t offset)
{
	return pwrite_all(fd_, data, len, offset);
}

void PartialFile::start_writeback(std::uint64_t offset, std::uint32_t len) const
{
	// SYNC_FILE_RANGE_WRITE alone queues the dirty pages and returns; it
	// neither waits nor flushes metadata, which stays the fsync's job.
	::sync_file_range(fd_, static_cast<off_t>(offset), len, SYNC_FILE_RANGE_WRITE);
}

bool PartialFile::read_seed(void* out, std::size_t len, std::uint64_t offset) const
{
	auto p = static_cast<char*>(out);
	while (len > 0) {
		ssize_t n = ::pread(seed_fd_, p, len, static_cast<off_t>(offset));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<std::size_t>(n);
		offset += static_cast<std::uint64_t>(n);
	}
	return true;
}

bool PartialFile::mark_verified(std::uint32_t chunk)
{
	char one = '1';
	return pwrite_all(state_fd_, &one, 1, kHeaderLen + chunk);
}

bool PartialFile::finish(std::string& error)
{
	if (::fsync(fd_) != 0) {
		error = sys_error("cannot sync", partial_);
		return false;
	}
	if (::rename(partial_.c_str(), final_.c_str()) != 0) {
		error = sys_error("cannot rename into place", final_);
		return false;
	}
	::unlink(sidecar_.c_str());
	// Make the rename itself durable.
	int dir = ::open(final_.parent_path().empty() ? "." : final_.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		::fsync(dir);
		::close(dir);
	}
	return true;
}

} // namespace p2pget
