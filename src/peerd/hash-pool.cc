// Chunk tasks for the work pool. A worker touches only its job's chunk slot
// and the atomic error; counting chunks back happens on the reactor.
#include "hash-pool.h"

#include "serve/safe-open.h"

#include "p2p/protocol.h"

#include <algorithm>
#include <optional>
#include <vector>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerd {

HashPool::HashPool(event_base* base, int root_fd, unsigned threads, Done done)
	: root_fd_(root_fd), done_(std::move(done)), pool_(base, threads)
{
}

std::uint64_t HashPool::submit(const std::string& name, const FileStat& st)
{
	auto job = std::make_shared<HashJob>();
	job->id = next_id_++;
	job->name = name;
	job->st = st;
	std::uint32_t n = p2p::chunk_count(st.size, p2p::kChunkSize);
	job->chunks.resize(n);
	job->left = n;
	if (n == 0) {
		// Nothing to read, but still answered from the loop like the rest,
		// after a check that the file is still there and still empty.
		pool_.submit([this, job] { hash_chunk(root_fd_, *job, 0); }, [this, job] { chunk_done(job); });
		job->left = 1;
		return job->id;
	}
	for (std::uint32_t i = 0; i < n; i++)
		pool_.submit([this, job, i] { hash_chunk(root_fd_, *job, i); }, [this, job] { chunk_done(job); });
	return job->id;
}

void HashPool::chunk_done(const std::shared_ptr<HashJob>& job)
{
	if (--job->left > 0)
		return;
	if (job->error.load() == 0)
		job->content = p2p::content_hash(job->chunks);
	done_(job);
}

namespace {

// Read and hashed in pieces that fit the core's L2 cache, so the hash reads
// bytes the copy has just brought in rather than fetching them again from
// memory: a few percent over one 2 MiB read. Not mapped: a file shrinking
// under a mapping would kill the daemon with SIGBUS.
constexpr std::size_t kPiece = 128 * 1024;

// nullopt and `err` when it cannot be read whole (ESTALE: it shrank).
std::optional<p2p::Hash> hash_range(int fd, std::uint64_t offset, std::size_t len, int& err)
{
	thread_local std::vector<unsigned char> buf(kPiece);
	p2p::Hasher hasher;
	while (len > 0) {
		ssize_t n = pread(fd, buf.data(), std::min(len, kPiece), static_cast<off_t>(offset));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ESTALE;
			return std::nullopt;
		}
		hasher.update(buf.data(), static_cast<std::size_t>(n));
		offset += static_cast<std::uint64_t>(n);
		len -= static_cast<std::size_t>(n);
	}
	return hasher.finish();
}

} // namespace

void hash_chunk(int root_fd, HashJob& job, std::uint32_t index)
{
	if (job.error.load() != 0)
		return; // the file already failed: skip its other chunks
	int fd = serve::open_beneath(root_fd, job.name, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		job.error = errno;
		return;
	}
	struct stat st;
	// Hashes are only good for the stat the scan saw; anything else means
	// the file changed under us and gets looked at again.
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(file_stat(st) == job.st)) {
		close(fd);
		job.error = ESTALE;
		return;
	}
	std::uint64_t offset = static_cast<std::uint64_t>(index) * p2p::kChunkSize;
	if (offset >= job.st.size) { // the 0-byte file's check
		close(fd);
		return;
	}
	std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(p2p::kChunkSize, job.st.size - offset));
	int err = 0;
	auto h = hash_range(fd, offset, want, err);
	close(fd);
	if (!h)
		job.error = err;
	else
		job.chunks[index] = *h;
}

} // namespace peerd
