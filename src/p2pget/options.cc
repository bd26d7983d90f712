// Hand-written parsing rather than getopt_long: getopt keeps global state,
// and a pure function is easy to test.
#include "options.h"

#include "p2p/names.h"
#include "p2p/parse-number.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace p2pget {

static_assert(kDefaultTimeout == 15.0, "usage_text says 15 s");

const char* usage_text()
{
	return "usage: p2pget [-i HOST[:PORT]] [-o DIR] [-t SECONDS] [--secret-file FILE] [-q] [--json] NAME...\n"
	       "       p2pget --list [-i HOST[:PORT]] [--json]\n"
	       "       p2pget --lookup NAME [-i HOST[:PORT]] [--json]\n"
	       "\n"
	       "Downloads each NAME from every peer that holds it, verifying every chunk.\n"
	       "\n"
	       "  -i, --index HOST[:PORT]  index server (default $P2P_INDEX, else 127.0.0.1:60000)\n"
	       "  -o, --output DIR         write downloads into DIR (default .)\n"
	       "  -t, --timeout SECONDS    timeout per chunk request (default 15)\n"
	       "      --secret-file FILE   closed cluster: MAC every frame with this 32-byte\n"
	       "                           secret (default $P2P_SECRET_FILE); chunk bytes\n"
	       "                           are not MAC'd: the chunk hashes check them\n"
	       "  -q, --quiet              print nothing but errors\n"
	       "      --json               one JSON object per line on stdout\n"
	       "      --list               list every file in the index\n"
	       "      --lookup NAME        show the peers holding NAME\n"
	       "  -v, --verbose            more log output (repeat for debug)\n"
	       "  -h, --help               show this help\n"
	       "  -V, --version            show the version\n"
	       "\n"
	       "Exit status: 0 all downloaded and verified, 1 some download failed,\n"
	       "2 usage error, refused name or unreadable secret file, 3 some NAME is not\n"
	       "in the index, 4 the index cannot be reached or refused us.\n";
}

namespace {

ParseResult error(std::string text) { return {std::nullopt, std::move(text)}; }

bool set_index(Options& o, std::string_view text, std::string& err)
{
	auto hp = p2p::parse_host_port(text, p2p::kIndexPort);
	if (!hp || hp->host.empty()) {
		err = "bad index address '" + std::string(text) + "' (want HOST[:PORT])";
		return false;
	}
	o.index = *hp;
	o.index_text = std::string(text);
	return true;
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
	bool list = false;
	std::optional<std::string> lookup;
	std::vector<std::string> names;
	bool only_names = false;
	for (int i = 1; i < argc; i++) {
		std::string_view arg = argv[i];
		if (only_names || arg.empty() || arg[0] != '-' || arg == "-") {
			names.emplace_back(arg);
			continue;
		}
		if (arg == "--") {
			only_names = true;
			continue;
		}
		// Split "--opt=value" and "-oVALUE" forms into name and inline value.
		std::string_view name = arg;
		std::optional<std::string_view> inline_value;
		if (arg.starts_with("--")) {
			auto eq = arg.find('=');
			if (eq != std::string_view::npos) {
				name = arg.substr(0, eq);
				inline_value = arg.substr(eq + 1);
			}
		} else if (arg.size() > 2) {
			name = arg.substr(0, 2);
			inline_value = arg.substr(2);
		}
		auto takes = [&](std::string_view s, std::string_view l) { return name == s || name == l; };
		auto value = [&](std::string_view& out) -> bool {
			if (inline_value) {
				out = *inline_value;
				return true;
			}
			if (i + 1 >= argc) {
				err = "option " + std::string(name) + " needs a value";
				return false;
			}
			out = argv[++i];
			return true;
		};
		auto flag = [&]() -> bool {
			if (!inline_value)
				return true;
			// "-qv" style bundles are not supported; say so plainly.
			err = "option " + std::string(name) + " takes no value";
			return false;
		};
		std::string_view v;
		if (takes("-h", "--help")) {
			if (!flag())
				return error(err);
			o.mode = Mode::Help;
			return {o, ""};
		} else if (takes("-V", "--version")) {
			if (!flag())
				return error(err);
			o.mode = Mode::Version;
			return {o, ""};
		} else if (takes("-i", "--index")) {
			if (!value(v) || !set_index(o, v, err))
				return error(err);
		} else if (takes("-o", "--output")) {
			if (!value(v))
				return error(err);
			if (v.empty())
				return error("option -o needs a folder");
			o.out_dir = std::string(v);
		} else if (takes("-t", "--timeout")) {
			if (!value(v))
				return error(err);
			auto t = p2p::parse_seconds(v, 3600.0);
			if (!t)
				return error("bad timeout '" + std::string(v) + "' (want seconds, 0 < t <= 3600)");
			o.timeout = *t;
		} else if (takes("-q", "--quiet")) {
			if (!flag())
				return error(err);
			o.quiet = true;
		} else if (takes("-v", "--verbose")) {
			if (!flag())
				return error(err);
			o.verbose++;
		} else if (name == "--json") {
			if (!flag())
				return error(err);
			o.json = true;
		} else if (name == "--secret-file") {
			if (!value(v))
				return error(err);
			if (v.empty())
				return error("option --secret-file needs a file");
			o.secret_file = std::string(v);
		} else if (name == "--list") {
			if (!flag())
				return error(err);
			list = true;
		} else if (name == "--lookup") {
			if (!value(v))
				return error(err);
			lookup = std::string(v);
		} else {
			return error("unknown option '" + std::string(arg) + "'");
		}
	}
	if (list && lookup)
		return error("--list and --lookup cannot be used together");
	if (list) {
		if (!names.empty())
			return error("--list takes no NAME");
		o.mode = Mode::List;
		return {o, ""};
	}
	if (lookup) {
		if (!names.empty())
			return error("--lookup takes exactly one NAME");
		names.push_back(*lookup);
		o.mode = Mode::Lookup;
	} else if (names.empty()) {
		return error("no NAME to download");
	}
	for (auto& n : names) {
		if (const char* why = p2p::name_problem(n))
			return error("refusing name '" + n + "': " + why);
		if (std::find(o.names.begin(), o.names.end(), n) == o.names.end())
			o.names.push_back(n);
	}
	return {o, ""};
}

} // namespace p2pget
