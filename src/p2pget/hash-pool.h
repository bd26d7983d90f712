// A small pool of threads that hash chunks back from the partial file (the
// page cache), so verifying at network speed never stalls the reactor. The
// one exception to the single-threaded design: workers touch nothing but
// the job; results return to the reactor through an eventfd.
#pragma once

#include "p2p/ev.h"
#include "p2p/hash.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace p2pget {

class PartialFile;

struct VerifyJob {
	std::shared_ptr<PartialFile> file; // keeps the fd open while queued
	std::uint64_t offset = 0;
	std::uint32_t length = 0;
	p2p::Hash expected{};
	// Routing, opaque to the pool.
	std::size_t download = 0;
	std::uint32_t chunk = 0;
	std::size_t peer = 0;
};

struct VerifyResult {
	std::size_t download = 0;
	std::uint32_t chunk = 0;
	std::size_t peer = 0;
	bool ok = false;
	int read_errno = 0; // the chunk could not be read back
};

class HashPool {
public:
	// `on_result` runs on the reactor thread.
	HashPool(event_base* base, unsigned threads, std::function<void(const VerifyResult&)> on_result);
	HashPool(const HashPool&) = delete;
	HashPool& operator=(const HashPool&) = delete;
	~HashPool();

	void submit(VerifyJob job);
	std::size_t pending() const { return pending_; }

private:
	static void wake_cb(evutil_socket_t, short, void* self);
	void on_wake();
	void work();

	std::function<void(const VerifyResult&)> on_result_;
	std::mutex mu_;
	std::condition_variable cv_;
	std::deque<VerifyJob> jobs_;
	std::vector<VerifyResult> results_;
	bool stopping_ = false;
	std::size_t pending_ = 0; // reactor thread only
	int efd_ = -1;
	std::vector<std::thread> threads_;
	p2p::EventPtr wake_;
};

} // namespace p2pget
