// Formatting of the counters for the log.
#include "counters.h"

namespace peerd {

std::string Counters::format() const
{
	std::string s;
	auto add = [&](const char* name, std::uint64_t v) {
		if (!s.empty())
			s += ' ';
		s += name;
		s += '=';
		s += std::to_string(v);
	};
	add("connections", connections);
	add("connections_refused", connections_refused);
	add("idle_closed", idle_closed);
	add("manifest_requests", manifest_requests);
	add("chunk_requests", chunk_requests);
	add("chunks_served", chunks_served);
	add("bytes_served", bytes_served);
	add("errors_not_found", errors_not_found);
	add("errors_changed", errors_changed);
	add("errors_bad_range", errors_bad_range);
	add("errors_protocol", errors_protocol);
	add("files_hashed", files_hashed);
	add("files_from_cache", files_from_cache);
	add("bytes_hashed", bytes_hashed);
	add("hash_failures", hash_failures);
	add("rescans", rescans);
	add("index_connects", index_connects);
	add("index_registers", index_registers);
	add("index_updates", index_updates);
	add("index_errors", index_errors);
	return s;
}

} // namespace peerd
