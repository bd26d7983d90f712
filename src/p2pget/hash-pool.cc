// Chunks are hashed straight from a read-only mapping of the partial file:
// no copy, and no buffer of our own.
#include "hash-pool.h"

#include "partial-file.h"

#include <cerrno>
#include <sys/mman.h>
#include <unistd.h>

namespace p2pget {

VerifyResult verify_chunk(const VerifyJob& job)
{
	VerifyResult r{job.download, job.chunk, job.peer, false, 0};
	// Map the chunk rather than pread it: the bytes are in the page cache
	// already, and a mapping hashes them without another copy.
	long page = ::sysconf(_SC_PAGESIZE);
	std::uint64_t start = job.offset / static_cast<std::uint64_t>(page) * static_cast<std::uint64_t>(page);
	std::size_t span = static_cast<std::size_t>(job.offset - start) + job.length;
	void* map = job.length == 0 ? nullptr
	                            : ::mmap(nullptr, span, PROT_READ, MAP_SHARED | MAP_POPULATE, job.file->fd(),
	                                     static_cast<off_t>(start));
	if (map == MAP_FAILED) {
		r.read_errno = errno;
		return r;
	}
	auto* bytes = static_cast<const unsigned char*>(map) + (job.offset - start);
	r.ok = p2p::hash_bytes(bytes, job.length) == job.expected;
	if (map)
		::munmap(map, span);
	return r;
}

void HashPool::submit(VerifyJob job)
{
	// One result shared by the work (which fills it) and the completion.
	auto result = std::make_shared<VerifyResult>();
	auto shared_job = std::make_shared<VerifyJob>(std::move(job));
	pool_.submit([shared_job, result] { *result = verify_chunk(*shared_job); },
	             [this, result] { on_result_(*result); });
}

} // namespace p2pget
