// The chunk server's counters by name.
#include "serve-counters.h"

namespace serve {

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
		{"chunks_taken", chunks_taken},
	};
}

std::vector<std::pair<std::string, std::uint64_t>> Counters::refusal_pairs() const
{
	return {
		{"connections_refused", connections_refused},
		{"idle_closed", idle_closed},
		{"bad_frames", bad_frames},
		{"bad_macs", bad_macs},
		{"frame_timeouts", frame_timeouts},
		{"files_busy", files_busy},
	};
}

} // namespace serve
