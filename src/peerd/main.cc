// peerd: shares a directory with the peers of an index. See man/peerd.8.
#include "daemon.h"
#include "options.h"

#include "p2p/ev.h"
#include "p2p/hash.h"
#include "p2p/log.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv)
{
	p2p::log_init("peerd", p2p::LogLevel::Info);
	auto parsed = peerd::parse_options(argc, argv, std::getenv("P2P_INDEX"));
	switch (parsed.action) {
	case peerd::ParsedOptions::Action::Help:
		std::fputs(peerd::usage_text(), stdout);
		return 0;
	case peerd::ParsedOptions::Action::Version:
		std::fputs(peerd::version_text(), stdout);
		return 0;
	case peerd::ParsedOptions::Action::Error:
		p2p::print_error("%s", parsed.error.c_str());
		return 2;
	case peerd::ParsedOptions::Action::Run:
		break;
	}
	if (parsed.options.verbose > 0)
		p2p::log_set_level(p2p::LogLevel::Debug);
	if (!p2p::hash_init()) {
		p2p::print_error("cannot initialise libsodium");
		return 1;
	}
	std::signal(SIGPIPE, SIG_IGN);

	p2p::EventBasePtr base(event_base_new());
	if (!base) {
		p2p::print_error("cannot create the event loop");
		return 1;
	}
	int status;
	{
		peerd::Daemon daemon(parsed.options, base.get());
		std::string error;
		if (!daemon.start(&error)) {
			p2p::print_error("%s", error.c_str());
			return 1;
		}
		event_base_dispatch(base.get());
		status = daemon.exit_status();
	}
	// Freeing the sessions queued libevent's own deferred callbacks and
	// finalizers; a bufferevent whose callback never runs is never freed.
	for (int i = 0; i < 3; i++)
		event_base_loop(base.get(), EVLOOP_NONBLOCK);
	return status;
}
