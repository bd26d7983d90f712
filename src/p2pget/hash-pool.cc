// Worker threads hash chunks read back with pread in small pieces, so a
// worker holds 256 KiB, never a whole chunk.
#include "hash-pool.h"

#include "partial-file.h"

#include <algorithm>
#include <cerrno>
#include <sys/eventfd.h>
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
	std::vector<unsigned char> buf(256 * 1024);
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
		p2p::Hasher hasher;
		std::uint64_t off = job.offset;
		std::uint32_t left = job.length;
		while (left > 0) {
			std::size_t want = std::min<std::size_t>(left, buf.size());
			ssize_t n = ::pread(job.file->fd(), buf.data(), want, static_cast<off_t>(off));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r.read_errno = n < 0 ? errno : EIO;
				break;
			}
			hasher.update(buf.data(), static_cast<std::size_t>(n));
			off += static_cast<std::uint64_t>(n);
			left -= static_cast<std::uint32_t>(n);
		}
		if (left == 0)
			r.ok = hasher.finish() == job.expected;
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
