// Every event of indexd that matters, counted; the STATS reply and the
// tests read these.
#pragma once

#include <cstdint>

namespace indexd {

struct Counters {
	std::uint64_t connections = 0;      // accepted, ever
	std::uint64_t connections_open = 0; // open now
	std::uint64_t registers = 0;        // REGISTER accepted
	std::uint64_t updates = 0;          // UPDATE accepted
	std::uint64_t unregisters = 0;
	std::uint64_t lookups = 0;
	std::uint64_t lookup_misses = 0; // name held by nobody
	std::uint64_t lists = 0;
	std::uint64_t stats = 0;
	std::uint64_t pings = 0;
	std::uint64_t bad_frames = 0;     // garbage, oversized, malformed, unknown type
	std::uint64_t timeouts = 0;       // unfinished frame or idle connection closed
	std::uint64_t expired = 0;        // peers dropped after TTL without a word
	std::uint64_t refused = 0;        // REGISTER of a live (host, port): AddressInUse (takeover refused)
	std::uint64_t signed_registers = 0; // REGISTER accepted and bound to a key (also in registers)
	std::uint64_t takeovers = 0;      // a live (host, port) replaced by a new connection with the same key
	std::uint64_t bad_signatures = 0; // IDENTIFY without CHALLENGE, or a REGISTER whose signature fails
	std::uint64_t bad_macs = 0;       // closed cluster: a frame without a valid MAC
	std::uint64_t not_registered = 0; // UPDATE before REGISTER
	std::uint64_t busy = 0;           // per-peer file limit reached
	std::uint64_t peers_closed = 0;   // registered peers removed when their connection closed
	std::uint64_t accept_errors = 0;
	std::uint64_t conn_limit = 0; // connections turned away: descriptor budget full
	std::uint64_t output_stalls = 0; // reading paused: a client not reading its replies
};

} // namespace indexd
