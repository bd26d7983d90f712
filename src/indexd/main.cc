// indexd: the index of a p2p file sharing network. Parses options, sets up
// one libevent reactor, runs until SIGINT/SIGTERM.
#include "huge-pages.h"
#include "index-server.h"
#include "options.h"
#include "peer-table.h"
#include "redis-store.h"

#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/hash.h"
#include "p2p/log.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>

// The in-memory table, or the Redis store (it connects in the background
// and answers unavailable until then).
static std::unique_ptr<indexd::IndexStore> make_store(event_base* base, const indexd::Options& o)
{
	if (o.store == "memory")
		return std::make_unique<indexd::PeerTable>();
	indexd::RedisTarget target;
	std::string why;
	indexd::parse_redis_url(o.store, target, why); // checked by parse_options
	auto redis = std::make_unique<indexd::RedisStore>(base, target, o.ttl);
	redis->start();
	return redis;
}

int main(int argc, char** argv)
{
	using indexd::ParseResult;
	ParseResult r = indexd::parse_options(argc, argv);
	p2p::log_init("indexd", p2p::LogLevel::Warn);
	switch (r.action) {
	case ParseResult::Action::Help:
		std::fputs(indexd::usage_text().c_str(), stdout);
		return 0;
	case ParseResult::Action::Version:
		std::puts(indexd::kVersionString);
		return 0;
	case ParseResult::Action::Error:
		p2p::print_error("%s (try 'indexd -h')", r.error.c_str());
		return 2;
	case ParseResult::Action::Run:
		break;
	}
	indexd::restart_with_huge_pages(argv);
	int level = static_cast<int>(p2p::LogLevel::Warn) + r.options.verbose;
	p2p::log_set_level(static_cast<p2p::LogLevel>(std::min(level, static_cast<int>(p2p::LogLevel::Debug))));
	// Writes to a vanished client must come back as an error, not kill us.
	std::signal(SIGPIPE, SIG_IGN);

	// libsodium: nonces, signatures and MACs.
	if (!p2p::hash_init()) {
		p2p::print_error("cannot initialise libsodium");
		return 1;
	}
	std::optional<p2p::SecretKey> secret;
	if (!r.options.secret_file.empty()) {
		std::string why;
		secret = p2p::load_secret_file(r.options.secret_file, &why);
		if (!secret) {
			p2p::print_error("%s", why.c_str());
			return 1;
		}
	}

	p2p::EventBasePtr base(event_base_new());
	if (!base) {
		p2p::print_error("cannot create the event loop");
		return 1;
	}
	std::unique_ptr<indexd::IndexStore> store = make_store(base.get(), r.options);
	indexd::IndexServer server(base.get(), *store, r.options);
	if (secret)
		server.set_secret(*secret);
	std::string error;
	if (!server.start(error)) {
		p2p::print_error("%s", error.c_str());
		return 1;
	}
	event_base_dispatch(base.get());
	log_info("bye");
	return 0;
}
