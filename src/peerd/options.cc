// Parsing of peerd's flags; see man/peerd.8 for the user's view.
#include "options.h"

#include "p2p/arg-scanner.h"
#include "p2p/metrics-server.h"
#include "p2p/parse-number.h"
#include "p2p/protocol.h"

#include <string_view>

namespace peerd {

// The largest ID whose default port (60000 + ID) is still a port.
inline constexpr std::uint32_t kMaxId = 65535 - p2p::kPeerPortBase;

const char* usage_text()
{
	return "usage: peerd -d DIR [-i HOST[:PORT],...] [-p PORT] [-n ID] [--rate-limit RATE]\n"
	       "             [--secret-file FILE] [--metrics [ADDR:]PORT] [-v] [-h] [-V]\n"
	       "\n"
	       "Shares every regular file under DIR with the peers of an index.\n"
	       "\n"
	       "  -d, --dir DIR          directory to share; its last component is the peer ID\n"
	       "  -i, --index HOST[:PORT][,HOST[:PORT]...]\n"
	       "                         index servers, in order: the first that answers, the\n"
	       "                         next within 2 s when it goes away (default: $P2P_INDEX,\n"
	       "                         else 127.0.0.1:60000)\n"
	       "  -p, --port PORT        port to serve chunks on (default: 60000 + ID)\n"
	       "  -n, --id ID            peer ID when DIR's name is not a number\n"
	       "      --rate-limit RATE  cap on the total upload rate, bytes/s (K, M, G suffixes)\n"
	       "      --secret-file FILE closed cluster: MAC every frame with this 32-byte key\n"
	       "                         (index link and chunk requests; chunk bytes stay raw)\n"
	       "      --metrics [ADDR:]PORT serve HTTP GET /metrics (Prometheus text) on PORT\n"
	       "  -v, --verbose          log more (debug lines)\n"
	       "  -h, --help             show this help and exit\n"
	       "  -V, --version          show the version and exit\n";
}

const char* version_text() { return "peerd 0.1.0 (protocol 1)\n"; }

namespace {

// Last path component of DIR, ignoring trailing slashes.
std::string_view last_component(std::string_view dir)
{
	while (dir.size() > 1 && dir.back() == '/')
		dir.remove_suffix(1);
	auto slash = dir.rfind('/');
	return slash == std::string_view::npos ? dir : dir.substr(slash + 1);
}

ParsedOptions error(std::string text)
{
	ParsedOptions p;
	p.action = ParsedOptions::Action::Error;
	p.error = std::move(text);
	return p;
}

// What the scan learned beyond the options themselves.
struct Scanned {
	std::string index_text;
	std::string index_from = "P2P_INDEX";
	bool have_port = false;
};

// Applies the argument the scanner stands on: "" or why it is refused.
std::string apply(p2p::ArgScanner& s, ParsedOptions& out, Scanned& sc)
{
	Options& o = out.options;
	if (s.flag('h', "help")) {
		out.action = ParsedOptions::Action::Help;
	} else if (s.flag('V', "version")) {
		out.action = ParsedOptions::Action::Version;
	} else if (s.flag('v', "verbose")) {
		o.verbose++;
	} else if (s.value('d', "dir")) {
		if (s.arg().empty())
			return "option -d needs a directory";
		o.dir = s.arg();
	} else if (s.value('i', "index")) {
		if (s.arg().empty())
			return "option -i needs HOST[:PORT][,HOST[:PORT]...]";
		sc.index_text = s.arg();
		sc.index_from = "-i";
	} else if (s.value('p', "port")) {
		auto port = p2p::parse_u64(s.arg(), 65535);
		if (!port || *port == 0)
			return "bad port '" + std::string(s.arg()) + "' (1-65535)";
		o.port = static_cast<std::uint16_t>(*port);
		sc.have_port = true;
	} else if (s.value('n', "id")) {
		auto id = p2p::parse_u64(s.arg(), kMaxId);
		if (!id)
			return "bad peer ID '" + std::string(s.arg()) + "' (0-" + std::to_string(kMaxId) + ")";
		o.id = static_cast<std::uint32_t>(*id);
		o.have_id = true;
	} else if (s.value(0, "rate-limit")) {
		auto rate = p2p::parse_size(s.arg());
		if (!rate || *rate == 0)
			return "bad rate '" + std::string(s.arg()) + "' (bytes per second, e.g. 500K or 20M)";
		o.rate_limit = *rate;
	} else if (s.value(0, "secret-file")) {
		if (s.arg().empty())
			return "option --secret-file needs a file";
		o.secret_file = s.arg();
	} else if (s.value(0, "metrics")) {
		o.metrics = p2p::parse_metrics_address(s.arg());
		if (!o.metrics)
			return "bad metrics address '" + std::string(s.arg()) + "' (want [ADDR:]PORT)";
	} else {
		return s.error() + " (try -h)";
	}
	return "";
}

// The peer ID, port and index, once every argument was read.
ParsedOptions finish(ParsedOptions out, const Scanned& sc)
{
	Options& o = out.options;
	if (o.dir.empty())
		return error("no directory to share: give -d DIR");
	if (!o.have_id) {
		std::string_view last = last_component(o.dir);
		auto id = p2p::parse_u64(last, kMaxId);
		if (id) {
			o.id = static_cast<std::uint32_t>(*id);
			o.have_id = true;
		} else if (!sc.have_port) {
			return error("the last component of '" + o.dir + "' is not a peer ID (0-" + std::to_string(kMaxId) +
			             "): give -n ID or -p PORT");
		}
	}
	if (!sc.have_port)
		o.port = static_cast<std::uint16_t>(p2p::kPeerPortBase + o.id);
	if (!sc.index_text.empty()) {
		auto list = p2p::parse_host_port_list(sc.index_text, p2p::kIndexPort);
		if (!list)
			return error("bad index address '" + sc.index_text + "' from " + sc.index_from +
			             " (HOST[:PORT][,HOST[:PORT]...])");
		o.indexes = *list;
		o.index = o.indexes.front();
	}
	return out;
}

} // namespace

ParsedOptions parse_options(int argc, const char* const argv[], const char* env_index)
{
	ParsedOptions out;
	Scanned sc;
	sc.index_text = env_index && *env_index ? env_index : "";
	p2p::ArgScanner s(argc, argv);
	while (s.next()) {
		std::string why = apply(s, out, sc);
		if (!why.empty())
			return error(why);
		if (out.action != ParsedOptions::Action::Run)
			return out;
	}
	return finish(std::move(out), sc);
}

} // namespace peerd
