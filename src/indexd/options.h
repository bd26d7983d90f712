// indexd's command line as a plain value: parse_options is pure (no I/O, no
// exit), so every flag is unit-tested without starting a process.
#pragma once

#include "p2p/address.h"
#include "p2p/protocol.h"

#include <optional>

#include <string>

namespace indexd {

inline constexpr const char* kVersionString = "indexd 0.1.0 (protocol 1)";
inline constexpr double kDefaultTtl = 30.0;
inline constexpr double kMaxTtl = 86400.0;

struct Options {
	std::uint16_t port = p2p::kIndexPort;
	std::string listen;      // empty: every interface, IPv4 and IPv6
	double ttl = kDefaultTtl; // seconds without a message before a peer is dropped
	int verbose = 0;          // each -v raises the log level by one
	std::string secret_file;  // closed cluster: every frame MAC'd with this key (main reads it)
	std::optional<p2p::HostPort> metrics; // --metrics: where GET /metrics is served
	std::string store = "memory";         // --store: memory or redis://HOST[:PORT][/DB]
};

struct ParseResult {
	enum class Action { Run, Help, Version, Error };
	Action action = Action::Run;
	Options options;
	std::string error; // set when action == Error, without the "indexd: " prefix
};

ParseResult parse_options(int argc, const char* const* argv);

// The --help text; the defaults in it come from the constants above.
std::string usage_text();

} // namespace indexd
