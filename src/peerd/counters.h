// Every event that matters to an operator, counted; logged on SIGUSR1 and
// at exit (and readable by tests from those lines).
#pragma once

#include <cstdint>
#include <string>

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
	std::uint64_t errors_protocol = 0;      // bad frames, unexpected messages
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

	// "name=value name=value ..." for one log line.
	std::string format() const;
};

} // namespace peerd
