// p2pget: downloads files from every peer that holds them, verifying every
// chunk; also lists the index (--list) and shows who holds a name (--lookup).
#include "engine.h"
#include "partial-file.h"
#include "options.h"
#include "report.h"
#include "serve-setup.h"

#include "p2p/frame-auth.h"
#include "p2p/hash.h"
#include "p2p/log.h"

#include <algorithm>
#include <filesystem>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <sys/ioctl.h>
#include <unistd.h>

using namespace p2pget;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitMissing = 3, kExitIndex = 4;

EngineOptions engine_options(const Options& o, const std::optional<p2p::SecretKey>& secret)
{
	EngineOptions e;
	e.secret = secret;
	e.index = o.indexes;
	e.out_dir = o.out_dir;
	e.timeout = o.timeout;
	e.notes = !o.quiet;
	// Hashing is the costliest part of a fast download; one thread per
	// core (at least two, at most four) keeps it off the reactor's back.
	e.hash_threads = std::clamp(std::thread::hardware_concurrency(), 2u, 4u);
	return e;
}

// Columns of the terminal on `fd`, asked at every redraw so that a resized
// window (SIGWINCH) is followed without a handler.
std::size_t terminal_width(int fd)
{
	winsize ws{};
	if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

// Where an unfinished download's verified chunks wait for the next run.
std::string kept_note(const Options& o, const std::string& name)
{
	auto partial = PartialFile::partial_path_for(o.out_dir, name);
	if (!std::filesystem::exists(partial))
		return "";
	return "; the partial file " + partial.string() + " is kept: run the same command again to resume";
}

// The index could not be asked: unreachable, or (closed cluster) it
// refused us, which says so in `error` already.
int index_failed(const Engine& engine, const std::string& error)
{
	if (engine.index_refused())
		p2p::print_error("%s", error.c_str());
	else
		p2p::print_error("cannot reach the index: %s", error.c_str());
	return kExitIndex;
}

// Every entry the index lists under folder `prefix` ("" = everything),
// paging LIST to the end; `on_entry` sees each. Returns 0, or the exit
// status when the index could not be asked (already said).
int list_under(Engine& engine, const std::string& prefix, const std::function<void(const p2p::ListEntry&)>& on_entry)
{
	// Names under "dir" sort after "dir/" and before anything else.
	std::string under = prefix.empty() ? "" : prefix + "/";
	std::string after = under;
	while (true) {
		std::string error;
		auto reply = engine.ask_index(p2p::List{after, p2p::kMaxListPage}, error);
		if (!reply)
			return index_failed(engine, error);
		auto* lr = std::get_if<p2p::ListReply>(&*reply);
		if (!lr) {
			p2p::print_error("unexpected answer from the index");
			return kExitIndex;
		}
		for (auto& e : lr->entries) {
			if (!e.name.starts_with(under))
				return kExitOk;
			on_entry(e);
		}
		if (!lr->more || lr->entries.empty())
			return kExitOk;
		after = lr->entries.back().name;
	}
}

int run_list(const Options& o, const std::optional<p2p::SecretKey>& secret)
{
	Engine engine(engine_options(o, secret));
	std::size_t listed = 0;
	if (!o.json && ::isatty(STDOUT_FILENO))
		std::printf("%14s  %5s  %-16s  %s\n", "SIZE", "PEERS", "HASH", "NAME");
	int status = list_under(engine, o.prefix, [&](const p2p::ListEntry& e) {
		listed++;
		if (o.json)
			std::printf("%s\n", list_entry_json(e).c_str());
		else
			std::printf("%14llu  %5u  %.16s  %s\n", static_cast<unsigned long long>(e.size), e.peers,
			            p2p::to_hex(e.hash).c_str(), e.name.c_str());
	});
	if (status == kExitOk && listed == 0 && !o.json && !o.quiet) {
		if (o.prefix.empty())
			std::fprintf(stderr, "p2pget: the index lists no files\n");
		else
			std::fprintf(stderr, "p2pget: the index lists nothing under %s/\n", o.prefix.c_str());
	}
	return status;
}

// The names to download: those given, and every name under each folder.
// Returns 0, or the exit status when that cannot be done (already said).
int expand_folders(Engine& engine, const Options& o, std::vector<std::string>& names)
{
	names = o.names;
	for (auto& folder : o.folders) {
		std::size_t before = names.size();
		int status = list_under(engine, folder, [&](const p2p::ListEntry& e) {
			if (std::find(names.begin(), names.end(), e.name) == names.end())
				names.push_back(e.name);
		});
		if (status != kExitOk)
			return status;
		if (names.size() == before) {
			p2p::print_error("%s/: nothing under it in the index", folder.c_str());
			return kExitMissing;
		}
	}
	return kExitOk;
}

// Partial holders too, where the index knows them.
std::optional<p2p::Message> ask_holders(Engine& engine, const std::string& name, std::string& error)
{
	auto stats = engine.ask_index(p2p::Stats{}, error);
	std::uint64_t features = 0;
	if (auto* st = stats ? std::get_if<p2p::StatsReply>(&*stats) : nullptr)
		for (auto& [key, value] : st->counters)
			if (key == "features")
				features = value;
	if (!stats)
		return std::nullopt;
	if (features & p2p::kFeaturePartialHolders)
		return engine.ask_index(p2p::LookupHolders{name}, error);
	return engine.ask_index(p2p::Lookup{name}, error);
}

int run_lookup(const Options& o, const std::optional<p2p::SecretKey>& secret)
{
	Engine engine(engine_options(o, secret));
	std::string error;
	const std::string& name = o.names.front();
	auto reply = ask_holders(engine, name, error);
	if (!reply)
		return index_failed(engine, error);
	p2p::HoldersReply lr;
	if (auto* r = std::get_if<p2p::LookupReply>(&*reply))
		lr.peers = r->peers;
	else if (auto* h = std::get_if<p2p::HoldersReply>(&*reply))
		lr.peers = h->peers;
	else if (!std::holds_alternative<p2p::Error>(*reply)) {
		p2p::print_error("unexpected answer from the index");
		return kExitIndex;
	}
	lr.name = name;
	if (o.json)
		std::printf("%s\n", lookup_json(lr).c_str());
	else
		for (auto& p : lr.peers)
			std::printf("%s\n", lookup_line(p).c_str());
	if (lr.peers.empty()) {
		if (!o.quiet && !o.json)
			p2p::print_error("%s: not in the index", name.c_str());
		return kExitMissing;
	}
	return kExitOk;
}

int run_download(const Options& o, const std::optional<p2p::SecretKey>& secret)
{
	Engine engine(engine_options(o, secret));
	auto node = start_serving(engine, o, secret); // goes before the engine
	if (o.serve && !node)
		return kExitFailed;
	bool tty = !o.quiet && ::isatty(STDERR_FILENO);
	std::function<void(const Progress&)> show;
	if (tty)
		show = [](const Progress& p) {
			std::fprintf(stderr, "\r%s\033[K", progress_line(p, terminal_width(STDERR_FILENO)).c_str());
		};
	std::vector<std::string> names;
	if (int status = expand_folders(engine, o, names))
		return status;
	auto results = engine.download(names, show);
	if (tty)
		std::fputc('\n', stderr);
	bool failed = false, missing = false, index_down = false;
	for (auto& r : results) {
		if (o.json)
			std::printf("%s\n", result_json(r).c_str());
		switch (r.status) {
		case FileResult::Status::Ok:
			if (!o.quiet && !o.json)
				std::fprintf(stderr, "%s\n", done_line(r).c_str());
			break;
		case FileResult::Status::Missing:
			missing = true;
			p2p::print_error("%s: not in the index", r.name.c_str());
			break;
		case FileResult::Status::IndexDown:
			// A refusal is one fact about the cluster, said once below.
			if (!engine.index_refused())
				p2p::print_error("%s: cannot reach the index: %s", r.name.c_str(), r.error.c_str());
			index_down = true;
			break;
		case FileResult::Status::Interrupted:
			p2p::print_error("%s: interrupted%s", r.name.c_str(), kept_note(o, r.name).c_str());
			break;
		default:
			failed = true;
			p2p::print_error("%s: download failed: %s%s", r.name.c_str(), r.error.c_str(), kept_note(o, r.name).c_str());
			break;
		}
	}
	std::fflush(stdout);
	if (node && !engine.interrupted_by()) // the files are done and said so
		node->seed();
	if (engine.interrupted_by())
		return 128 + engine.interrupted_by();
	if (engine.index_refused())
		p2p::print_error("%s", kIndexRefused);
	if (index_down)
		return kExitIndex;
	if (failed)
		return kExitFailed;
	if (missing)
		return kExitMissing;
	return kExitOk;
}

} // namespace

int main(int argc, char** argv)
{
	p2p::log_init("p2pget", p2p::LogLevel::Warn);
	// A file too large for the file system must be an error we report,
	// not a signal that kills us.
	std::signal(SIGXFSZ, SIG_IGN);
	std::signal(SIGPIPE, SIG_IGN);
	auto parsed = parse_options(argc, argv, std::getenv("P2P_INDEX"), std::getenv("P2P_SECRET_FILE"));
	if (!parsed.options) {
		p2p::print_error("%s", parsed.error.c_str());
		std::fprintf(stderr, "Try 'p2pget --help' for more information.\n");
		return kExitUsage;
	}
	const Options& o = *parsed.options;
	if (o.mode == Mode::Help) {
		std::fputs(usage_text(), stdout);
		return kExitOk;
	}
	if (o.mode == Mode::Version) {
		std::printf("p2pget 0.1.0 (protocol version %u)\n", p2p::kVersion);
		return kExitOk;
	}
	p2p::log_set_level(o.verbose >= 2 ? p2p::LogLevel::Debug : o.verbose == 1 ? p2p::LogLevel::Info
	                   : o.quiet       ? p2p::LogLevel::Error
	                                   : p2p::LogLevel::Warn);
	if (!p2p::hash_init()) {
		p2p::print_error("cannot initialise libsodium");
		return kExitFailed;
	}
	std::optional<p2p::SecretKey> secret;
	if (!o.secret_file.empty()) {
		std::string why;
		secret = p2p::load_secret_file(o.secret_file, &why);
		if (!secret) {
			p2p::print_error("--secret-file %s", why.c_str());
			return kExitUsage;
		}
	}
	switch (o.mode) {
	case Mode::List: return run_list(o, secret);
	case Mode::Lookup: return run_lookup(o, secret);
	default: return run_download(o, secret);
	}
}
