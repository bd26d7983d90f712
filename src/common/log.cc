// The process log. Small on purpose: a level, a name, stderr.
#include "p2p/log.h"

#include <event2/event.h>

#include <cstdio>
#include <ctime>
#include <sys/time.h>

namespace p2p {
namespace {

const char* g_program = "p2p";
LogLevel g_level = LogLevel::Warn;

const char* level_name(LogLevel level)
{
	switch (level) {
	case LogLevel::Error: return "error";
	case LogLevel::Warn: return "warn";
	case LogLevel::Info: return "info";
	case LogLevel::Debug: return "debug";
	}
	return "?";
}

void vlog(LogLevel level, const char* fmt, va_list ap)
{
	char text[1024];
	std::vsnprintf(text, sizeof text, fmt, ap);
	timeval tv;
	gettimeofday(&tv, nullptr);
	tm t;
	localtime_r(&tv.tv_sec, &t);
	std::fprintf(stderr, "%02d:%02d:%02d.%03ld %s: %s: %s\n", t.tm_hour, t.tm_min, t.tm_sec,
	             static_cast<long>(tv.tv_usec / 1000), g_program, level_name(level), text);
}

void libevent_log(int severity, const char* msg)
{
	LogLevel level = severity >= EVENT_LOG_ERR ? LogLevel::Error
	               : severity == EVENT_LOG_WARN ? LogLevel::Warn
	               : LogLevel::Debug;
	if (log_enabled(level))
		log_message(level, "libevent: %s", msg);
}

} // namespace

void log_init(const char* program, LogLevel level)
{
	g_program = program;
	g_level = level;
	event_set_log_callback(libevent_log);
}

void log_set_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }
const char* log_program() { return g_program; }

void log_message(LogLevel level, const char* fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void print_error(const char* fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	std::fprintf(stderr, "%s: %s\n", g_program, text);
}

} // namespace p2p
