// Recursive scan with openat/fdopendir, so that no path is followed through
// a symbolic link and names never have to be re-resolved from the top.
#include "share-scan.h"

#include "serve/safe-open.h"

#include "p2p/names.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

namespace peerd {

FileStat file_stat(const struct stat& st)
{
	FileStat f;
	f.size = static_cast<std::uint64_t>(st.st_size);
	f.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
	f.inode = static_cast<std::uint64_t>(st.st_ino);
	return f;
}

namespace {

// Takes ownership of `fd` (a directory opened for reading).
void scan_dir(int fd, const std::string& prefix, ScanResult& out, int depth)
{
	DIR* d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	out.dirs.push_back(prefix);
	while (dirent* e = readdir(d)) {
		const char* n = e->d_name;
		if (n[0] == '.') {
			if (std::strcmp(n, ".") != 0 && std::strcmp(n, "..") != 0)
				out.skipped++;
			continue;
		}
		std::string name = prefix.empty() ? std::string(n) : prefix + "/" + n;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; // gone meanwhile
		if (!p2p::is_safe_name(name)) {
			out.skipped++;
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			out.files.push_back({std::move(name), file_stat(st)});
		} else if (S_ISDIR(st.st_mode) && depth < 64) {
			int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				scan_dir(sub, name, out, depth + 1);
		} else {
			out.skipped++; // symbolic link, device, fifo, socket
		}
	}
	closedir(d);
}

} // namespace

bool scan_share(int root_fd, const std::string& sub, ScanResult& out, std::string* error)
{
	int fd = serve::open_beneath(root_fd, sub, O_RDONLY | O_DIRECTORY);
	if (fd < 0) {
		if (error)
			*error = std::strerror(errno);
		return false;
	}
	std::size_t first = out.files.size();
	scan_dir(fd, sub, out, 0);
	std::sort(out.files.begin() + static_cast<std::ptrdiff_t>(first), out.files.end(),
	          [](const ScannedFile& a, const ScannedFile& b) { return a.name < b.name; });
	return true;
}

} // namespace peerd
