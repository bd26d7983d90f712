// Verifying chunks off the reactor thread: each chunk is hashed back from
// the partial file (the page cache) on a p2p::WorkPool worker, so checking
// at network speed never stalls the reactor. A chunk of the seed (an older
// copy of the file) is read, hashed, and on a match written to the partial
// file from the very bytes that were hashed.
#pragma once

#include "p2p/hash.h"
#include "p2p/work-pool.h"

#include <cstdint>
#include <functional>
#include <memory>

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
	bool from_seed = false;
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
	HashPool(event_base* base, unsigned threads, std::function<void(const VerifyResult&)> on_result)
		: on_result_(std::move(on_result)), pool_(base, threads)
	{
	}

	void submit(VerifyJob job);
	std::size_t pending() const { return pool_.pending(); }

private:
	std::function<void(const VerifyResult&)> on_result_;
	p2p::WorkPool pool_; // last: its workers stop before on_result_ goes
};

// Hashes the job's bytes in place (read-only mapping) and compares; for a
// seed chunk, reads, compares, and copies a match into the partial file.
// A match's writeback to the disk starts here (PartialFile::start_writeback).
VerifyResult verify_chunk(const VerifyJob& job);

} // namespace p2pget
