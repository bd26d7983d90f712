// What the chunk server counts. The owner shows them with its own (peerd's
// STATS and log lines list these first, by these names).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace serve {

struct Counters {
	std::uint64_t connections = 0;
	std::uint64_t connections_refused = 0;  // connection limit hit
	std::uint64_t idle_closed = 0;          // idle limit hit
	std::uint64_t manifest_requests = 0;
	std::uint64_t chunk_requests = 0;
	std::uint64_t chunks_served = 0;
	std::uint64_t bytes_served = 0;
	std::uint64_t errors_not_found = 0;
	std::uint64_t errors_changed = 0;
	std::uint64_t errors_bad_range = 0;
	std::uint64_t errors_protocol = 0;      // every connection closed for what it sent
	// what was refused or dropped, by cause (each also in errors_protocol)
	std::uint64_t bad_frames = 0;           // malformed, oversized, unexpected
	std::uint64_t bad_macs = 0;             // closed cluster: MAC missing or wrong
	std::uint64_t frame_timeouts = 0;       // a frame not finished in time
	std::uint64_t files_busy = 0;           // no descriptor left to open a file: Busy
	std::uint64_t chunks_taken = 0;         // spare requests sent elsewhere just now: Taken

	// Name and value of each counter, in a fixed order.
	std::vector<std::pair<std::string, std::uint64_t>> pairs() const;
	// The refusals among them (connections over the limit, idle, bad
	// frames, MACs, frame timeouts, file opens out of descriptors).
	std::vector<std::pair<std::string, std::uint64_t>> refusal_pairs() const;
};

} // namespace serve
