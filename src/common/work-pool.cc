#include "p2p/work-pool.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace p2p {

unsigned default_pool_threads()
{
	return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

WorkPool::WorkPool(event_base* base, unsigned threads)
{
	efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd_ < 0)
		return;
	wake_.reset(event_new(base, efd_, EV_READ | EV_PERSIST, wake_cb, this));
	if (!wake_)
		return;
	event_add(wake_.get(), nullptr);
	for (unsigned i = 0; i < std::max(threads, 1u); i++)
		workers_.emplace_back([this] { run_worker(); });
}

WorkPool::~WorkPool()
{
	{
		std::lock_guard lock(mu_);
		stopping_ = true;
	}
	cv_.notify_all();
	for (auto& t : workers_)
		t.join();
	wake_.reset();
	if (efd_ >= 0)
		::close(efd_);
}

void WorkPool::submit(std::function<void()> work, std::function<void()> done)
{
	pending_++;
	{
		std::lock_guard lock(mu_);
		queue_.push_back({std::move(work), std::move(done)});
	}
	cv_.notify_one();
}

void WorkPool::run_worker()
{
	while (true) {
		Task task;
		{
			std::unique_lock lock(mu_);
			cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
			if (stopping_)
				return;
			task = std::move(queue_.front());
			queue_.pop_front();
		}
		task.work();
		// Release what the work held (an open file, say) before its
		// completion can run: the reactor may expect to be the last owner.
		task.work = nullptr;
		{
			std::lock_guard lock(mu_);
			finished_.push_back(std::move(task.done));
		}
		std::uint64_t one = 1;
		(void)!::write(efd_, &one, sizeof one);
	}
}

void WorkPool::wake_cb(evutil_socket_t, short, void* self) { static_cast<WorkPool*>(self)->on_wake(); }

void WorkPool::on_wake()
{
	std::uint64_t count;
	(void)!::read(efd_, &count, sizeof count);
	std::vector<std::function<void()>> done;
	{
		std::lock_guard lock(mu_);
		done.swap(finished_);
	}
	for (auto& d : done) {
		pending_--;
		if (d)
			d();
	}
}

} // namespace p2p
