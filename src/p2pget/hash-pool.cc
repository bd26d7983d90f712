// Chunks are hashed straight from a read-only mapping of the partial file:
// no copy, and no buffer of our own (a seed's chunks excepted).
#include "hash-pool.h"

#include "partial-file.h"

#include <cerrno>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>

namespace p2pget {

namespace {

VerifyResult verify_seed_chunk(const VerifyJob& job)
{
	VerifyResult r{job.download, job.chunk, job.peer, false, 0};
	// Not mapped: someone may truncate the seed (SIGBUS). The copy comes
	// from this buffer, so what is written is exactly what matched.
	thread_local std::vector<unsigned char> buf;
	buf.resize(job.length);
	r.ok = job.file->read_seed(buf.data(), job.length, job.offset) &&
	       p2p::hash_bytes(buf.data(), job.length) == job.expected &&
	       job.file->write(buf.data(), job.length, job.offset);
	if (r.ok)
		job.file->start_writeback(job.offset, job.length);
	return r;
}

} // namespace

VerifyResult verify_chunk(const VerifyJob& job)
{
	if (job.from_seed)
		return verify_seed_chunk(job);
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
	// Good bytes are final: their writeback starts here, on the worker,
	// while the download goes on (a bad chunk is rewritten instead).
	if (r.ok)
		job.file->start_writeback(job.offset, job.length);
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
