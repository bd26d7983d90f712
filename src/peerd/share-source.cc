// The share table seen by the chunk server.
#include "share-source.h"

#include "serve/safe-open.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerd {

std::optional<serve::ServedFile> ShareSource::find(const std::string& name)
{
	const SharedFile* f = keeper_.table().find(name);
	if (!f)
		return std::nullopt;
	serve::ServedFile s;
	s.size = f->st.size;
	s.content = f->content;
	s.chunk_size = p2p::kChunkSize;
	s.chunk_hashes = f->chunks;
	return s; // every chunk verified: the whole file was hashed
}

int ShareSource::open_file(const std::string& name)
{
	const SharedFile* f = keeper_.table().find(name);
	if (!f) {
		errno = ENOENT;
		return -1;
	}
	int fd = serve::open_beneath(keeper_.root_fd(), name, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	// The bytes must be the ones that were hashed: same inode, size, mtime.
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(file_stat(st) == f->st)) {
		::close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

} // namespace peerd
