// Every event that matters to an operator, counted; logged on SIGUSR1 and
// at exit (and readable by tests from those lines, or with STATS).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace peerd {

struct Counters {
	// chunk server
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
	// sharing
	std::uint64_t files_hashed = 0;
	std::uint64_t files_from_cache = 0;
	std::uint64_t bytes_hashed = 0;
	std::uint64_t hash_failures = 0;
	std::uint64_t rescans = 0;
	// index link
	std::uint64_t index_connects = 0;
	std::uint64_t index_registers = 0;
	std::uint64_t index_updates = 0;
	std::uint64_t index_errors = 0;
	std::uint64_t index_refused = 0;        // registration refused (address in use, auth)

	// Name and value of each counter, in a fixed order.
	std::vector<std::pair<std::string, std::uint64_t>> pairs() const;
	// "name=value name=value ..." for one log line.
	std::string format() const;
	// What was refused or dropped: the sum, and the counters for a log line.
	std::uint64_t refusals() const;
	std::string format_refusals() const;

private:
	std::vector<std::pair<std::string, std::uint64_t>> refusal_pairs() const;
};

} // namespace peerd
