// Formatting of the counters for the log and the STATS reply.
#include "counters.h"

#include "p2p/log.h"

namespace peerd {

std::vector<std::pair<std::string, std::uint64_t>> Counters::pairs() const
{
	return {
		{"connections", connections},
		{"connections_refused", connections_refused},
		{"idle_closed", idle_closed},
		{"manifest_requests", manifest_requests},
		{"chunk_requests", chunk_requests},
		{"chunks_served", chunks_served},
		{"bytes_served", bytes_served},
		{"errors_not_found", errors_not_found},
		{"errors_changed", errors_changed},
		{"errors_bad_range", errors_bad_range},
		{"errors_protocol", errors_protocol},
		{"bad_frames", bad_frames},
		{"bad_macs", bad_macs},
		{"frame_timeouts", frame_timeouts},
		{"files_busy", files_busy},
		{"files_hashed", files_hashed},
		{"files_from_cache", files_from_cache},
		{"bytes_hashed", bytes_hashed},
		{"hash_failures", hash_failures},
		{"rescans", rescans},
		{"index_connects", index_connects},
		{"index_registers", index_registers},
		{"index_updates", index_updates},
		{"index_errors", index_errors},
		{"index_refused", index_refused},
	};
}

std::string Counters::format() const { return p2p::format_counters(pairs()); }

std::vector<std::pair<std::string, std::uint64_t>> Counters::refusal_pairs() const
{
	return {
		{"connections_refused", connections_refused},
		{"idle_closed", idle_closed},
		{"bad_frames", bad_frames},
		{"bad_macs", bad_macs},
		{"frame_timeouts", frame_timeouts},
		{"files_busy", files_busy},
		{"index_refused", index_refused},
	};
}

std::uint64_t Counters::refusals() const
{
	std::uint64_t sum = 0;
	for (auto& [name, v] : refusal_pairs())
		sum += v;
	return sum;
}

std::string Counters::format_refusals() const { return p2p::format_counters(refusal_pairs()); }

} // namespace peerd
