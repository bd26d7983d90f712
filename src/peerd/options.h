// peerd's command line as a plain value: parse_options is pure (no I/O, no
// exit), so every flag and every usage error is unit-tested without a process.
#pragma once

#include "p2p/address.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace peerd {

struct Options {
	std::string dir;
	std::uint32_t id = 0;
	bool have_id = false;           // from -n or DIR's last component
	std::uint16_t port = 0;         // -p, else 60000 + id
	p2p::HostPort index{"127.0.0.1", p2p::kIndexPort}; // the first of `indexes`
	std::vector<p2p::HostPort> indexes{index};        // -i A[:PORT],B[:PORT], in order
	std::uint64_t rate_limit = 0;   // bytes per second for all uploads; 0: none
	std::string secret_file;        // closed cluster: the shared secret; empty: open
	std::optional<p2p::HostPort> metrics; // --metrics: where GET /metrics is served
	int verbose = 0;
};

struct ParsedOptions {
	enum class Action { Run, Help, Version, Error };
	Action action = Action::Run;
	Options options;
	std::string error; // "what went wrong", without the program name
};

// `env_index` is the value of P2P_INDEX or nullptr; passed in so that the
// parser stays pure.
ParsedOptions parse_options(int argc, const char* const argv[], const char* env_index);

const char* usage_text();
const char* version_text();

} // namespace peerd
