// Every event of indexd that matters, counted, in one list: the struct, the
// STATS reply, GET /metrics and the refusal log line all come from it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace indexd {

// X(name, refusal, help): refusal counters are what was refused or dropped,
// summed and logged together.
#define INDEXD_COUNTERS(X)                                                                               \
	X(connections, false, "Connections accepted.")                                                   \
	X(connections_open, false, "Connections open now.")                                              \
	X(registers, false, "REGISTER accepted.")                                                        \
	X(updates, false, "UPDATE accepted.")                                                            \
	X(partial_updates, false, "UPDATE_PARTIAL accepted.")                                            \
	X(unregisters, false, "UNREGISTER of a registered peer.")                                        \
	X(lookups, false, "LOOKUP answered.")                                                            \
	X(lookup_misses, false, "LOOKUP of a name nobody holds.")                                        \
	X(holder_lookups, false, "LOOKUP_HOLDERS answered.")                                             \
	X(lists, false, "LIST answered.")                                                                \
	X(stats, false, "STATS answered.")                                                               \
	X(pings, false, "PING answered.")                                                                \
	X(bad_frames, true, "Connections closed for garbage, oversized, malformed or unknown frames.")   \
	X(timeouts, true, "Connections closed for an unfinished frame or idleness.")                     \
	X(expired, false, "Peers dropped after a TTL without a word.")                                   \
	X(refused, true, "REGISTER of a (host, port) held by another live connection.")                  \
	X(signed_registers, false, "REGISTER bound to a key (also in registers).")                       \
	X(takeovers, true, "Live registrations replaced by a newer connection with the same key.")       \
	X(bad_signatures, true, "IDENTIFY without CHALLENGE, or a REGISTER whose signature fails.")      \
	X(bad_macs, true, "Closed cluster: frames without a valid MAC.")                                 \
	X(not_registered, true, "UPDATE or UPDATE_PARTIAL before REGISTER.")                                               \
	X(busy, true, "Registrations refused at the per-peer file limit.")                               \
	X(conn_limit, true, "Connections turned away: descriptor budget full.")                          \
	X(peers_closed, false, "Registered peers removed when their connection closed.")                 \
	X(accept_errors, false, "Failed accept() calls.")                                                \
	X(output_stalls, true, "Times reading was paused for a client not reading its replies.")         \
	X(unavailable, true, "Requests answered error unavailable: the shared store (Redis) was away.")

struct Counters {
#define INDEXD_COUNTER_FIELD(name, refusal, help) std::uint64_t name = 0;
	INDEXD_COUNTERS(INDEXD_COUNTER_FIELD)
#undef INDEXD_COUNTER_FIELD

	// Name and value of every counter, in the list's order.
	std::vector<std::pair<std::string, std::uint64_t>> pairs() const;
	// The refusal counters alone, and their sum.
	std::vector<std::pair<std::string, std::uint64_t>> refusal_pairs() const;
	std::uint64_t refusals() const;
};

struct CounterInfo {
	const char* name;
	bool refusal;
	const char* help;
	std::uint64_t Counters::*field;
};
// The list itself, in its order.
std::span<const CounterInfo> counter_list();

} // namespace indexd
