// Every event that matters to an operator, counted; logged on SIGUSR1 and
// at exit (and readable by tests from those lines, or with STATS).
#pragma once

#include "serve/serve-counters.h"

#include "p2p/registration-link.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace peerd {

// The index link's counters (index_connects ...) are the base's fields.
struct Counters : p2p::LinkCounters {
	serve::Counters server; // the chunk server's, listed first
	// sharing
	std::uint64_t files_hashed = 0;
	std::uint64_t files_from_cache = 0;
	std::uint64_t bytes_hashed = 0;
	std::uint64_t hash_failures = 0;
	std::uint64_t rescans = 0;

	// Name and value of each counter, in a fixed order.
	std::vector<std::pair<std::string, std::uint64_t>> pairs() const;
	// "name=value name=value ..." for one log line.
	std::string format() const;
	// What was refused or dropped: the sum, and the counters for a log line.
	std::uint64_t refusals() const;
	std::string format_refusals() const;

private:
	std::vector<std::pair<std::string, std::uint64_t>> refusal_pairs() const;
	std::vector<std::pair<std::string, std::uint64_t>> own_pairs() const;
};

} // namespace peerd
