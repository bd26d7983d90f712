// indexd's flags, one table-free parser: few enough flags that a chain of
// ifs reads more plainly than a table.
#include "options.h"

#include "p2p/parse-number.h"

#include <string_view>

namespace indexd {
namespace {

ParseResult error(std::string text)
{
	ParseResult r;
	r.action = ParseResult::Action::Error;
	r.error = std::move(text);
	return r;
}

// Matches "-x", "--long", "-xVALUE" and "--long=VALUE"; the value, when the
// option takes one and it is not attached, is the next argument.
struct Matcher {
	int argc;
	const char* const* argv;
	int& i;
	std::string_view arg;
	std::string value;
	bool missing = false;

	bool flag(char s, std::string_view l) const
	{
		return arg == std::string(1, '-') + s || arg == std::string("--") + std::string(l);
	}

	bool with_value(char s, std::string_view l)
	{
		std::string shortopt = std::string("-") + s;
		std::string longopt = std::string("--") + std::string(l);
		if (arg == shortopt || arg == longopt) {
			if (i + 1 >= argc) {
				missing = true;
				return true;
			}
			value = argv[++i];
			return true;
		}
		if (arg.starts_with(longopt + "=")) {
			value = std::string(arg.substr(longopt.size() + 1));
			return true;
		}
		if (arg.size() > 2 && arg.starts_with(shortopt) && arg[1] != '-') {
			value = std::string(arg.substr(2));
			return true;
		}
		return false;
	}
};

} // namespace

std::string usage_text()
{
	return "usage: indexd [-p PORT] [-l ADDR] [-t TTL] [--secret-file FILE] [-v] [-h] [-V]\n"
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
	       "  -v, --verbose      log more (-v: info, -vv: debug)\n"
	       "  -h, --help         show this help and exit\n"
	       "  -V, --version      show the version and exit\n";
}

ParseResult parse_options(int argc, const char* const* argv)
{
	ParseResult r;
	for (int i = 1; i < argc; i++) {
		Matcher m{argc, argv, i, argv[i], {}, false};
		std::string_view arg = argv[i];
		if (m.flag('h', "help")) {
			r.action = ParseResult::Action::Help;
			return r;
		}
		if (m.flag('V', "version")) {
			r.action = ParseResult::Action::Version;
			return r;
		}
		if (arg == "--verbose") {
			r.options.verbose++;
			continue;
		}
		if (arg.size() >= 2 && arg[0] == '-' && arg.find_first_not_of('v', 1) == std::string_view::npos) {
			r.options.verbose += static_cast<int>(arg.size() - 1); // -v, -vv
			continue;
		}
		if (m.with_value('p', "port")) {
			if (m.missing)
				return error("option " + std::string(arg) + " needs a port");
			auto port = p2p::parse_u64(m.value, 65535);
			if (!port || *port == 0)
				return error("bad port '" + m.value + "' (want 1..65535)");
			r.options.port = static_cast<std::uint16_t>(*port);
			continue;
		}
		if (m.with_value('l', "listen")) {
			if (m.missing)
				return error("option " + std::string(arg) + " needs an address");
			std::string addr = m.value;
			if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']')
				addr = addr.substr(1, addr.size() - 2);
			if (addr.empty())
				return error("empty listen address");
			r.options.listen = addr;
			continue;
		}
		if (m.with_value('t', "ttl")) {
			if (m.missing)
				return error("option " + std::string(arg) + " needs a number of seconds");
			auto ttl = p2p::parse_seconds(m.value, kMaxTtl);
			if (!ttl || *ttl < 0.1)
				return error("bad TTL '" + m.value + "' (want seconds, 0.1..86400)");
			r.options.ttl = *ttl;
			continue;
		}
		// Long form only, as on peerd and p2pget.
		if (arg == "--secret-file" || arg.starts_with("--secret-file=")) {
			std::string file;
			if (arg == "--secret-file") {
				if (i + 1 >= argc)
					return error("option --secret-file needs a file");
				file = argv[++i];
			} else {
				file = std::string(arg.substr(std::string_view("--secret-file=").size()));
			}
			if (file.empty())
				return error("empty secret file name");
			r.options.secret_file = file;
			continue;
		}
		if (arg.starts_with("-") && arg.size() > 1)
			return error("unknown option '" + std::string(arg) + "'");
		return error("unexpected argument '" + std::string(arg) + "'");
	}
	return r;
}

} // namespace indexd
