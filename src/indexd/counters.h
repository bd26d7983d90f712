// Every event of indexd that matters, counted, in one list: the struct, the
// STATS reply and the refusal log line all come from it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace indexd {

// X(name, refusal): `refusal` counters are what was refused or dropped,
// summed and logged together.
#define INDEXD_COUNTERS(X)                                                                     \
	X(connections, false)      /* accepted, ever */                                        \
	X(connections_open, false) /* open now */                                              \
	X(registers, false)        /* REGISTER accepted */                                     \
	X(updates, false)          /* UPDATE accepted */                                       \
	X(unregisters, false)                                                                  \
	X(lookups, false)                                                                      \
	X(lookup_misses, false) /* name held by nobody */                                      \
	X(lists, false)                                                                        \
	X(stats, false)                                                                        \
	X(pings, false)                                                                        \
	X(bad_frames, true) /* garbage, oversized, malformed, unknown type */                  \
	X(timeouts, true)   /* unfinished frame or idle connection closed */                   \
	X(expired, false)   /* peers dropped after TTL without a word */                       \
	X(refused, true)    /* REGISTER of a live (host, port): AddressInUse */                \
	X(signed_registers, false) /* REGISTER bound to a key (also in registers) */           \
	X(takeovers, true)         /* a live (host, port) replaced by the same key */          \
	X(bad_signatures, true)    /* IDENTIFY without CHALLENGE, or a bad signature */        \
	X(bad_macs, true)          /* closed cluster: a frame without a valid MAC */           \
	X(not_registered, true)    /* UPDATE before REGISTER */                                \
	X(busy, true)              /* per-peer file limit reached */                           \
	X(conn_limit, true)        /* connections turned away: descriptor budget full */       \
	X(peers_closed, false)     /* registered peers removed when their connection closed */ \
	X(accept_errors, false)                                                                \
	X(output_stalls, true) /* reading paused: a client not reading its replies */

struct Counters {
#define INDEXD_COUNTER_FIELD(name, refusal) std::uint64_t name = 0;
	INDEXD_COUNTERS(INDEXD_COUNTER_FIELD)
#undef INDEXD_COUNTER_FIELD

	// Name and value of every counter, in the list's order.
	std::vector<std::pair<std::string, std::uint64_t>> pairs() const;
	// The refusal counters alone, and their sum.
	std::vector<std::pair<std::string, std::uint64_t>> refusal_pairs() const;
	std::uint64_t refusals() const;
};

} // namespace indexd
