// indexd's flags: the shared scanner splits argv, this file checks values.
#include "options.h"

#include "p2p/arg-scanner.h"
#include "p2p/metrics-server.h"

#include "redis-link.h"
#include "p2p/parse-number.h"

namespace indexd {
namespace {

ParseResult error(std::string text)
{
	ParseResult r;
	r.action = ParseResult::Action::Error;
	r.error = std::move(text);
	return r;
}

} // namespace

std::string usage_text()
{
	return "usage: indexd [-p PORT] [-l ADDR] [-t TTL] [--secret-file FILE] [--metrics [ADDR:]PORT]\n"
	       "              [--store memory|redis://HOST[:PORT][/DB]] [-v] [-h] [-V]\n"
	       "\n"
	       "The index of a p2p file sharing network: which peer holds which file.\n"
	       "\n"
	       "  -p, --port PORT    listen on PORT (default " +
	       std::to_string(p2p::kIndexPort) +
	       ")\n"
	       "  -l, --listen ADDR  listen on ADDR only (default: every interface, IPv4 and IPv6)\n"
	       "  -t, --ttl SECONDS  drop a peer heard nothing from for SECONDS (default 30);\n"
	       "                     also the time allowed to finish a frame, and twice it\n"
	       "                     the idle limit of connections that did not register\n"
	       "      --secret-file FILE\n"
	       "                     closed cluster: every frame in both directions must carry\n"
	       "                     a MAC made with the 32-byte secret in FILE (32 raw bytes\n"
	       "                     or 64 hex digits); other connections are refused\n"
	       "      --metrics [ADDR:]PORT\n"
	       "                     serve HTTP GET /metrics (Prometheus text) on PORT, on\n"
	       "                     every interface or on ADDR only\n"
	       "      --store memory|redis://HOST[:PORT][/DB]\n"
	       "                     where the index lives (default memory); in Redis, several\n"
	       "                     indexd on one Redis serve one index\n"
	       "  -v, --verbose      log more (-v: info, -vv: debug)\n"
	       "  -h, --help         show this help and exit\n"
	       "  -V, --version      show the version and exit\n";
}

ParseResult parse_options(int argc, const char* const* argv)
{
	ParseResult r;
	p2p::ArgScanner s(argc, argv);
	while (s.next()) {
		if (s.flag('h', "help")) {
			r.action = ParseResult::Action::Help;
			return r;
		} else if (s.flag('V', "version")) {
			r.action = ParseResult::Action::Version;
			return r;
		} else if (s.flag('v', "verbose")) {
			r.options.verbose++;
		} else if (s.value('p', "port")) {
			auto port = p2p::parse_u64(s.arg(), 65535);
			if (!port || *port == 0)
				return error("bad port '" + std::string(s.arg()) + "' (want 1..65535)");
			r.options.port = static_cast<std::uint16_t>(*port);
		} else if (s.value('l', "listen")) {
			std::string addr(s.arg());
			if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']')
				addr = addr.substr(1, addr.size() - 2);
			if (addr.empty())
				return error("empty listen address");
			r.options.listen = addr;
		} else if (s.value('t', "ttl")) {
			auto ttl = p2p::parse_seconds(s.arg(), kMaxTtl);
			if (!ttl || *ttl < 0.1)
				return error("bad TTL '" + std::string(s.arg()) + "' (want seconds, 0.1..86400)");
			r.options.ttl = *ttl;
		} else if (s.value(0, "secret-file")) { // long form only, as on peerd and p2pget
			if (s.arg().empty())
				return error("empty secret file name");
			r.options.secret_file = s.arg();
		} else if (s.value(0, "store")) {
			std::string store(s.arg());
			RedisTarget target;
			std::string why;
			if (store != "memory" && !parse_redis_url(store, target, why))
				return error("bad store '" + store + "': " + why);
			r.options.store = store;
		} else if (s.value(0, "metrics")) {
			r.options.metrics = p2p::parse_metrics_address(s.arg());
			if (!r.options.metrics)
				return error("bad metrics address '" + std::string(s.arg()) + "' (want [ADDR:]PORT)");
		} else {
			return error(s.error());
		}
	}
	return r;
}

} // namespace indexd
