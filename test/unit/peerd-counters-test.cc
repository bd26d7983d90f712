// peerd's counters keep every name, in the order operators and tests read
// them, with the chunk server's own counters (serve::Counters) first.
#include "../../src/peerd/counters.h"

#include <catch2/catch.hpp>

TEST_CASE("peerd counters: every name in its place, the server's first", "[peerd][counters]")
{
	peerd::Counters c;
	c.server.connections = 3;
	c.server.idle_closed = 1;
	c.index_refused = 2;
	c.files_hashed = 9;
	std::vector<std::string> names;
	for (auto& [name, v] : c.pairs())
		names.push_back(name);
	CHECK(names == std::vector<std::string>{
		               "connections", "connections_refused", "idle_closed", "manifest_requests", "chunk_requests",
		               "chunks_served", "bytes_served", "errors_not_found", "errors_changed", "errors_bad_range",
		               "errors_protocol", "bad_frames", "bad_macs", "frame_timeouts", "files_busy", "chunks_taken",
		               "files_hashed", "files_from_cache", "bytes_hashed", "hash_failures", "rescans",
		               "index_connects", "index_registers", "index_updates", "index_errors", "index_refused"});
	CHECK(c.format().find("connections=3 ") == 0);
	CHECK(c.format().find(" files_hashed=9 ") != std::string::npos);
	CHECK(c.refusals() == 3);
	CHECK(c.format_refusals() == "connections_refused=0 idle_closed=1 bad_frames=0 bad_macs=0 frame_timeouts=0 "
	                             "files_busy=0 index_refused=2");
}
