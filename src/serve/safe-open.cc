// open_beneath: openat2 when the kernel has it, a checked walk otherwise.
#include "safe-open.h"

#include "p2p/names.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

namespace serve {
namespace {

std::atomic<bool> g_have_openat2{true};

// Names that are empty are allowed only for the root itself (scans).
bool name_ok(std::string_view name) { return name.empty() || p2p::is_safe_name(name); }

} // namespace

int open_beneath_walk(int root_fd, std::string_view name, int flags)
{
	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	flags |= O_NOFOLLOW | O_CLOEXEC;
	if (name.empty())
		return openat(root_fd, ".", flags);
	int dir = root_fd;
	std::size_t start = 0;
	while (true) {
		std::size_t end = name.find('/', start);
		std::string part(name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
		int fd;
		if (end == std::string_view::npos) {
			fd = openat(dir, part.c_str(), flags);
		} else {
			// Each folder on the way is opened without following a link, so
			// a folder swapped for a symlink fails here with ELOOP/ENOTDIR.
			fd = openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int saved = errno;
		if (dir != root_fd)
			close(dir);
		errno = saved;
		if (fd < 0 || end == std::string_view::npos)
			return fd;
		dir = fd;
		start = end + 1;
	}
}

int open_beneath(int root_fd, std::string_view name, int flags)
{
	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (g_have_openat2.load(std::memory_order_relaxed)) {
		std::string path = name.empty() ? std::string(".") : std::string(name);
		open_how how{};
		how.flags = static_cast<std::uint64_t>(flags | O_NOFOLLOW | O_CLOEXEC);
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		long fd = syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return static_cast<int>(fd);
		// ENOSYS: old kernel; EPERM: a seccomp filter that does not know it.
		g_have_openat2.store(false, std::memory_order_relaxed);
	}
	return open_beneath_walk(root_fd, name, flags);
}

int stat_beneath(int root_fd, std::string_view name, struct stat& st)
{
	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (name.empty())
		return fstat(root_fd, &st);
	auto slash = name.rfind('/');
	std::string_view parent = slash == std::string_view::npos ? std::string_view() : name.substr(0, slash);
	std::string last(slash == std::string_view::npos ? name : name.substr(slash + 1));
	int dir = open_beneath(root_fd, parent, O_PATH | O_DIRECTORY);
	if (dir < 0)
		return -1;
	int rc = fstatat(dir, last.c_str(), &st, AT_SYMLINK_NOFOLLOW);
	int saved = errno;
	close(dir);
	errno = saved;
	return rc;
}

} // namespace serve
