// Worker threads hash chunks straight from a read-only mapping of the
// partial file: no copy, and no buffer of our own.
#include "hash-pool.h"

#include "partial-file.h"

#include <algorithm>
#include <cerrno>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

namespace p2pget {

HashPool::HashPool(event_base* base, unsigned threads, std::function<void(const VerifyResult&)> on_result)
	: on_result_(std::move(on_result))
{
	efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	wake_.reset(event_new(base, efd_, EV_READ | EV_PERSIST, wake_cb, this));
	event_add(wake_.get(), nullptr);
	for (unsigned i = 0; i < std::max(1u, threads); i++)
		threads_.emplace_back([this] { work(); });
}

HashPool::~HashPool()
{
	{
		std::lock_guard lock(mu_);
		stopping_ = true;
		jobs_.clear();
	}
	cv_.notify_all();
	for (auto& t : threads_)
		t.join();
	wake_.reset();
	if (efd_ >= 0)
		::close(efd_);
}

void HashPool::submit(VerifyJob job)
{
	pending_++;
	{
		std::lock_guard lock(mu_);
		jobs_.push_back(std::move(job));
	}
	cv_.notify_one();
}

void HashPool::work()
{
	while (true) {
		VerifyJob job;
		{
			std::unique_lock lock(mu_);
			cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
			if (stopping_)
				return;
			job = std::move(jobs_.front());
			jobs_.pop_front();
		}
		VerifyResult r{job.download, job.chunk, job.peer, false, 0};
		// Map the chunk rather than pread it: the bytes are in the page
		// cache already, and a mapping hashes them without another copy.
		long page = ::sysconf(_SC_PAGESIZE);
		std::uint64_t start = job.offset / static_cast<std::uint64_t>(page) * static_cast<std::uint64_t>(page);
		std::size_t span = static_cast<std::size_t>(job.offset - start) + job.length;
		void* map = job.length == 0 ? nullptr
		                            : ::mmap(nullptr, span, PROT_READ, MAP_SHARED | MAP_POPULATE, job.file->fd(),
		                                     static_cast<off_t>(start));
		if (map == MAP_FAILED) {
			r.read_errno = errno;
		} else {
			auto* bytes = static_cast<const unsigned char*>(map) + (job.offset - start);
			r.ok = p2p::hash_bytes(bytes, job.length) == job.expected;
			if (map)
				::munmap(map, span);
		}
		job.file.reset(); // before the result: the reactor may close the file next
		{
			std::lock_guard lock(mu_);
			results_.push_back(r);
		}
		std::uint64_t one = 1;
		[[maybe_unused]] auto w = ::write(efd_, &one, sizeof one);
	}
}

void HashPool::wake_cb(evutil_socket_t, short, void* self) { static_cast<HashPool*>(self)->on_wake(); }

void HashPool::on_wake()
{
	std::uint64_t count;
	[[maybe_unused]] auto r = ::read(efd_, &count, sizeof count);
	std::vector<VerifyResult> batch;
	{
		std::lock_guard lock(mu_);
		batch.swap(results_);
	}
	for (auto& res : batch) {
		pending_--;
		on_result_(res);
	}
}

} // namespace p2pget
