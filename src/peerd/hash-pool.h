// Hashing files chunk by chunk on the shared worker pool (p2p::WorkPool).
// Chunks hash independently, so the chunks of one large file spread over
// every worker; each file's result comes back on the reactor thread, so
// the daemon keeps serving while it hashes.
#pragma once

#include "share-scan.h"

#include "p2p/hash.h"
#include "p2p/work-pool.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace peerd {

struct HashJob {
	std::uint64_t id = 0;
	std::string name;
	FileStat st;                    // what the scan saw; checked per chunk
	std::vector<p2p::Hash> chunks;  // each slot written by one worker
	p2p::Hash content{};            // set when done and ok
	std::uint32_t left = 0;         // chunks not yet back (reactor thread only)
	std::atomic<int> error{0};      // errno of the first failure; ESTALE: the file changed
};

class HashPool {
public:
	// Called on the reactor thread for each finished job (ok or not).
	using Done = std::function<void(std::shared_ptr<HashJob>)>;

	HashPool(event_base* base, int root_fd, unsigned threads, Done done);
	HashPool(const HashPool&) = delete;
	HashPool& operator=(const HashPool&) = delete;

	// Queues `name` for hashing; returns the job id.
	std::uint64_t submit(const std::string& name, const FileStat& st);
	unsigned threads() const { return pool_.threads(); }
	bool ok() const { return pool_.ok(); }

private:
	void chunk_done(const std::shared_ptr<HashJob>& job);

	int root_fd_;
	Done done_;
	std::uint64_t next_id_ = 1;
	p2p::WorkPool pool_; // last: its workers stop first
};

// Reads and hashes chunk `index` of job.name (worker thread).
void hash_chunk(int root_fd, HashJob& job, std::uint32_t index);

} // namespace peerd
