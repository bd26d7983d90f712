// A few worker threads for CPU work (hashing) that must not stall the
// reactor: the one exception to one thread per process. Work runs on a
// worker and touches only what it was given; its completion runs back on
// the reactor thread, woken through an eventfd.
#pragma once

#include "p2p/ev.h"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace p2p {

class WorkPool {
public:
	WorkPool(event_base* base, unsigned threads);
	WorkPool(const WorkPool&) = delete;
	WorkPool& operator=(const WorkPool&) = delete;
	// Joins the workers; completions not yet run are dropped.
	~WorkPool();

	bool ok() const { return efd_ >= 0 && wake_ != nullptr; }
	unsigned threads() const { return static_cast<unsigned>(workers_.size()); }
	// `work` runs on a worker thread, then `done` on the reactor thread.
	void submit(std::function<void()> work, std::function<void()> done);
	// Submitted and not yet completed (reactor thread only).
	std::size_t pending() const { return pending_; }

private:
	struct Task {
		std::function<void()> work, done;
	};
	static void wake_cb(evutil_socket_t, short, void* self);
	void on_wake();
	void run_worker();

	std::mutex mu_;
	std::condition_variable cv_;
	std::deque<Task> queue_;
	std::vector<std::function<void()>> finished_;
	bool stopping_ = false;
	std::size_t pending_ = 0;
	int efd_ = -1;
	std::vector<std::thread> workers_;
	EventPtr wake_;
};

// One worker per core, at least 1, at most 8.
unsigned default_pool_threads();

} // namespace p2p
