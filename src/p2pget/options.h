// p2pget's command line as a plain value: parse_options is pure (no I/O,
// no exit), so every flag is unit-tested without a process.
#pragma once

#include "p2p/address.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

inline constexpr double kDefaultTimeout = 15.0;
inline constexpr const char* kDefaultIndex = "127.0.0.1:60000";
inline constexpr double kDefaultSeedTime = 30.0;

enum class Mode { Download, List, Lookup, Help, Version };

struct Options {
	Mode mode = Mode::Download;
	p2p::HostPort index{"127.0.0.1", p2p::kIndexPort}; // the first of `indexes`
	std::vector<p2p::HostPort> indexes{index};        // -i A[:PORT],B[:PORT]: asked in order
	std::string index_text = kDefaultIndex; // as given, for messages
	std::string out_dir = ".";
	double timeout = kDefaultTimeout;
	bool quiet = false;
	bool json = false;
	int verbose = 0;
	// Closed cluster: the shared secret's file (--secret-file, else
	// $P2P_SECRET_FILE); empty: none. main loads it.
	std::string secret_file;
	std::vector<std::string> names; // Download: deduplicated, in order; Lookup: one
	std::vector<std::string> folders; // Download: -r FOLDER or FOLDER/, every name under each
	std::string prefix;               // List: only names under this folder ("" = all)
	// Serving what is verified to other downloaders (PRODUCT.md, Swarming).
	bool serve = true;                  // --no-serve: false
	std::uint16_t serve_port = 0;       // --serve-port; 0: any free port
	std::uint64_t upload_limit = 0;     // --upload-limit, bytes/s; 0: none
	double seed_time = kDefaultSeedTime; // --seed-time, seconds; 0: none
	std::string identity_file;          // --identity; empty: a fresh key per run
};

struct ParseResult {
	std::optional<Options> options; // set on success
	std::string error;              // usage error, else empty
};

// `env_index` is $P2P_INDEX and `env_secret` $P2P_SECRET_FILE (nullptr or
// empty when unset); -i and --secret-file win over them.
ParseResult parse_options(int argc, const char* const* argv, const char* env_index,
                          const char* env_secret = nullptr);

// The --help text (stdout), also the usage hint printed after an error.
const char* usage_text();

} // namespace p2pget
