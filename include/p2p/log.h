// One log for the process: levels, a program name, and libevent's own
// messages routed in. Lines go to stderr as "PROGRAM: level: text".
// The level is checked before anything is formatted.
#pragma once

#include <cstdarg>
#include <string>

namespace p2p {

enum class LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 };

void log_init(const char* program, LogLevel level);
void log_set_level(LogLevel level);
LogLevel log_level();
const char* log_program();
inline bool log_enabled(LogLevel level) { return level <= log_level(); }

void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define P2P_LOG(level, ...)                                   \
	do {                                                      \
		if (::p2p::log_enabled(level))                        \
			::p2p::log_message(level, __VA_ARGS__);           \
	} while (0)
#define log_error(...) P2P_LOG(::p2p::LogLevel::Error, __VA_ARGS__)
#define log_warn(...) P2P_LOG(::p2p::LogLevel::Warn, __VA_ARGS__)
#define log_info(...) P2P_LOG(::p2p::LogLevel::Info, __VA_ARGS__)
#define log_debug(...) P2P_LOG(::p2p::LogLevel::Debug, __VA_ARGS__)

// "name=value name=value ..." of (name, number) pairs, for one log line.
template <typename Pairs>
std::string format_counters(const Pairs& pairs)
{
	std::string s;
	for (const auto& [name, value] : pairs) {
		if (!s.empty())
			s += ' ';
		s += name;
		s += '=';
		s += std::to_string(value);
	}
	return s;
}

// User-facing failure: "PROGRAM: text" on stderr, no level, no exit.
void print_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

} // namespace p2p
