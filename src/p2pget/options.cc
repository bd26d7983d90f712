// p2pget's flags: the shared scanner splits argv (getopt keeps global state;
// a pure function is easy to test), this file checks values and modes.
#include "options.h"

#include "p2p/arg-scanner.h"
#include "p2p/names.h"
#include "p2p/parse-number.h"

#include <algorithm>
#include <string_view>

namespace p2pget {

static_assert(kDefaultTimeout == 15.0, "usage_text says 15 s");
static_assert(kDefaultSeedTime == 30.0, "usage_text says 30 s");

const char* usage_text()
{
	return "usage: p2pget [-i HOST[:PORT],...] [-o DIR] [-t SECONDS] [--secret-file FILE] [-q] [--json] [-r]\n"
	       "              [--no-serve] [--serve-port PORT] [--upload-limit RATE]\n"
	       "              [--seed-time SECONDS] [--identity FILE] NAME...\n"
	       "       p2pget --list [PREFIX] [-i HOST[:PORT],...] [--json]\n"
	       "       p2pget --lookup NAME [-i HOST[:PORT],...] [--json]\n"
	       "\n"
	       "Downloads each NAME from every peer that holds it, verifying every chunk.\n"
	       "\n"
	       "  -i, --index HOST[:PORT][,HOST[:PORT]...]\n"
	       "                           index servers, asked in order until one answers\n"
	       "                           (default $P2P_INDEX, else 127.0.0.1:60000)\n"
	       "  -o, --output DIR         write downloads into DIR (default .)\n"
	       "  -t, --timeout SECONDS    timeout per chunk request (default 15)\n"
	       "      --secret-file FILE   closed cluster: MAC every frame with this 32-byte\n"
	       "                           secret (default $P2P_SECRET_FILE); chunk bytes\n"
	       "                           are not MAC'd: the chunk hashes check them\n"
	       "  -q, --quiet              print nothing but errors\n"
	       "      --json               one JSON object per line on stdout\n"
	       "  -r, --recursive          each NAME is a folder: download every file under it\n"
	       "                           (as does a NAME that ends in /)\n"
	       "      --no-serve           serve nothing to other downloaders, register nothing\n"
	       "      --serve-port PORT    serve verified chunks on PORT (default: any free port)\n"
	       "      --upload-limit RATE  cap on the total upload rate, bytes/s (K, M, G suffixes)\n"
	       "      --seed-time SECONDS  once done, serve on at most this long while others\n"
	       "                           still fetch or download (default 30; 0: not at all)\n"
	       "      --identity FILE      sign our registration at the index with this key\n"
	       "                           (made there if missing; default: a new key each run)\n"
	       "      --list [PREFIX]      list every file in the index, or under folder PREFIX\n"
	       "      --lookup NAME        show the peers holding NAME\n"
	       "  -v, --verbose            more log output (repeat for debug)\n"
	       "  -h, --help               show this help\n"
	       "  -V, --version            show the version\n"
	       "\n"
	       "Exit status: 0 all downloaded and verified, 1 some download failed,\n"
	       "2 usage error, refused name or unreadable secret file, 3 some NAME is not\n"
	       "in the index (or nothing is under a folder), 4 the index cannot be reached\n"
	       "or refused us, 130 or 143 interrupted (the partial files are kept).\n";
}

namespace {

ParseResult error(std::string text) { return {std::nullopt, std::move(text)}; }

bool set_index(Options& o, std::string_view text, std::string& err)
{
	auto list = p2p::parse_host_port_list(text, p2p::kIndexPort);
	if (!list) {
		err = "bad index address '" + std::string(text) + "' (want HOST[:PORT][,HOST[:PORT]...])";
		return false;
	}
	o.indexes = *list;
	o.index = o.indexes.front();
	o.index_text = std::string(text);
	return true;
}

// What the command line asked for beyond the options themselves.
struct Scanned {
	bool list = false;
	bool recursive = false;
	std::optional<std::string> lookup;
	std::vector<std::string> names;
};

bool refuse(std::string& err, std::string why)
{
	err = std::move(why);
	return false;
}

// The serving flags: nullopt when the scanner stands on none of them, else
// whether it was accepted (`err` says why not).
std::optional<bool> apply_serving(p2p::ArgScanner& s, Options& o, std::string& err)
{
	if (s.flag(0, "no-serve")) {
		o.serve = false;
	} else if (s.value(0, "serve-port")) {
		auto port = p2p::parse_u64(s.arg(), 65535);
		if (!port || *port == 0)
			return refuse(err, "bad port '" + std::string(s.arg()) + "' (1-65535)");
		o.serve_port = static_cast<std::uint16_t>(*port);
	} else if (s.value(0, "upload-limit")) {
		auto rate = p2p::parse_size(s.arg());
		if (!rate || *rate == 0)
			return refuse(err, "bad rate '" + std::string(s.arg()) + "' (bytes per second, e.g. 500K or 20M)");
		o.upload_limit = *rate;
	} else if (s.value(0, "seed-time")) {
		auto t = s.arg() == "0" ? std::optional<double>(0.0) : p2p::parse_seconds(s.arg());
		if (!t)
			return refuse(err, "bad seed time '" + std::string(s.arg()) + "' (want seconds, 0 to 86400)");
		o.seed_time = *t;
	} else if (s.value(0, "identity")) {
		if (s.arg().empty())
			return refuse(err, "option --identity needs a file");
		o.identity_file = std::string(s.arg());
	} else {
		return std::nullopt;
	}
	return true;
}

// Applies the argument the scanner stands on; false with `err` when it is
// refused.
bool apply(p2p::ArgScanner& s, Options& o, Scanned& sc, std::string& err)
{
	if (s.flag('h', "help")) {
		o.mode = Mode::Help;
	} else if (s.flag('V', "version")) {
		o.mode = Mode::Version;
	} else if (s.value('i', "index")) {
		return set_index(o, s.arg(), err);
	} else if (s.value('o', "output")) {
		if (s.arg().empty())
			return refuse(err, "option -o needs a folder");
		o.out_dir = std::string(s.arg());
	} else if (s.value('t', "timeout")) {
		auto t = p2p::parse_seconds(s.arg(), 3600.0);
		if (!t)
			return refuse(err, "bad timeout '" + std::string(s.arg()) + "' (want seconds, 0 < t <= 3600)");
		o.timeout = *t;
	} else if (s.flag('q', "quiet")) {
		o.quiet = true;
	} else if (s.flag('v', "verbose")) {
		o.verbose++;
	} else if (s.flag(0, "json")) {
		o.json = true;
	} else if (s.value(0, "secret-file")) {
		if (s.arg().empty())
			return refuse(err, "option --secret-file needs a file");
		o.secret_file = std::string(s.arg());
	} else if (s.flag(0, "list")) {
		sc.list = true;
	} else if (s.flag('r', "recursive")) {
		sc.recursive = true;
	} else if (s.value(0, "lookup")) {
		sc.lookup = std::string(s.arg());
	} else if (auto serving = apply_serving(s, o, err)) {
		return *serving;
	} else if (s.operand()) {
		sc.names.emplace_back(s.arg());
	} else {
		return refuse(err, s.error());
	}
	return true;
}

// A folder as given ("dir", "dir/"), without its trailing slashes; false
// with `err` when what is left is not a name.
bool folder_name(std::string& f, std::string& err)
{
	while (f.size() > 1 && f.back() == '/')
		f.pop_back();
	if (const char* why = p2p::name_problem(f))
		return refuse(err, "refusing folder '" + f + "': " + why);
	return true;
}

// Each NAME is a file, or a folder with -r or a trailing '/'.
ParseResult sort_names(Options o, const Scanned& sc)
{
	std::string err;
	for (auto n : sc.names) {
		bool folder = sc.recursive || (n.size() > 1 && n.back() == '/');
		auto& into = folder ? o.folders : o.names;
		if (folder && !folder_name(n, err))
			return error(err);
		if (!folder)
			if (const char* why = p2p::name_problem(n))
				return error("refusing name '" + n + "': " + why);
		if (std::find(into.begin(), into.end(), n) == into.end())
			into.push_back(n);
	}
	return {o, ""};
}

// The mode and the names, once every argument was read.
ParseResult finish(Options o, Scanned sc)
{
	if (sc.list && sc.lookup)
		return error("--list and --lookup cannot be used together");
	if (sc.list) {
		if (sc.names.size() > 1)
			return error("--list takes at most one PREFIX");
		o.mode = Mode::List;
		std::string err;
		if (!sc.names.empty() && !folder_name(o.prefix = sc.names.front(), err))
			return error(err);
		return {o, ""};
	}
	if (sc.lookup) {
		if (!sc.names.empty())
			return error("--lookup takes exactly one NAME");
		sc.names.push_back(*sc.lookup);
		o.mode = Mode::Lookup;
		sc.recursive = false;
	} else if (sc.names.empty()) {
		return error("no NAME to download");
	}
	return sort_names(std::move(o), sc);
}

} // namespace

ParseResult parse_options(int argc, const char* const* argv, const char* env_index, const char* env_secret)
{
	Options o;
	std::string err;
	if (env_index && *env_index && !set_index(o, env_index, err))
		return error("P2P_INDEX: " + err);
	if (env_secret)
		o.secret_file = env_secret;
	Scanned sc;
	p2p::ArgScanner s(argc, argv);
	while (s.next()) {
		if (!apply(s, o, sc, err))
			return error(err);
		if (o.mode == Mode::Help || o.mode == Mode::Version)
			return {o, ""};
	}
	return finish(std::move(o), std::move(sc));
}

} // namespace p2pget
