// Start-up order matters for error messages: DIR and the port are checked
// before anything runs, so a bad argument is one line and a non-zero exit.
#include "daemon.h"

#include "serve/listen-socket.h"

#include "p2p/conn-limit.h"
#include "p2p/log.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerd {

// How long transfers in flight may run on after SIGINT/SIGTERM.
inline constexpr double kGracePeriod = 5.0;
inline constexpr std::size_t kMaxConnections = 256;
// Descriptors kept out of the connection budget: files open for serving
// and hashing, inotify, the index link, the hash cache, stdio, epoll.
inline constexpr std::size_t kReservedFds = 32;
// At most one summary line of refusals per this many seconds: a flood of
// bad clients must not become a flood of log lines.
inline constexpr double kRefusalLogInterval = 10.0;

Daemon::Daemon(const Options& options, event_base* base) : options_(options), base_(base) {}

Daemon::~Daemon()
{
	// Users of the table and of the root fd go first.
	server_.reset();
	source_.reset();
	link_.reset();
	watch_.reset();
	keeper_.reset();
	if (root_fd_ >= 0)
		close(root_fd_);
}

// DIR/.peerd/identity: the key the index binds our registration to. The
// folder is private (0700 when we make it) and hidden, so never shared.
bool Daemon::load_identity(std::string* error)
{
	if (mkdirat(root_fd_, ".peerd", 0700) != 0 && errno != EEXIST) {
		*error = options_.dir + "/.peerd: " + std::strerror(errno);
		return false;
	}
	std::string why;
	auto id = p2p::Identity::load_or_create(options_.dir + "/.peerd/identity", &why);
	if (!id) {
		*error = "peer identity: " + why;
		return false;
	}
	// Identity can be moved but not assigned: build it in place.
	identity_.emplace(std::move(*id));
	return true;
}

// The secret, DIR and the identity: what must be there before anything runs.
bool Daemon::open_share(std::string* error)
{
	const std::string& dir = options_.dir;
	if (!options_.secret_file.empty()) {
		std::string why;
		secret_ = p2p::load_secret_file(options_.secret_file, &why);
		if (!secret_) {
			*error = "--secret-file: " + why;
			return false;
		}
	}
	root_fd_ = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd_ < 0) {
		*error = dir + ": " + (errno == ENOTDIR ? "not a directory" : std::strerror(errno));
		return false;
	}
	return load_identity(error);
}

void Daemon::start_keeper()
{
	ShareKeeper::Hooks hooks;
	hooks.on_changed = [this] {
		if (link_)
			link_->changed();
	};
	hooks.on_dir = [this](const std::string& rel) {
		if (watch_)
			watch_->watch(rel);
	};
	keeper_ = std::make_unique<ShareKeeper>(base_, root_fd_, options_.dir, counters_, hooks);
	watch_ = std::make_unique<DirWatch>(base_, options_.dir, [this](const std::vector<std::string>& paths) {
		if (!stopping_)
			keeper_->rescan(paths);
	});
}

// The chunk server on `lfd` (owned from here on), serving the share table.
bool Daemon::start_server(int lfd, std::string* error)
{
	serve::ChunkServerLimits limits;
	limits.rate_limit = options_.rate_limit;
	// Room for what else needs descriptors (files being served or hashed,
	// inotify, the index link, the cache), so that a flood of idle
	// connections never starves the clients already being served.
	limits.max_connections = p2p::connection_budget(kReservedFds, kMaxConnections);
	limits.secret = secret_ ? &*secret_ : nullptr;
	source_ = std::make_unique<ShareSource>(*keeper_, counters_);
	server_ = std::make_unique<serve::ChunkServer>(base_, lfd, *source_, counters_.server, limits);
	if (!server_->ok()) {
		*error = "cannot listen on port " + std::to_string(options_.port);
		return false;
	}
	return true;
}

void Daemon::watch_signals()
{
	auto sig = [this](int signo) {
		p2p::EventPtr ev(evsignal_new(base_, signo, signal_cb, this));
		event_add(ev.get(), nullptr);
		return ev;
	};
	sigint_ = sig(SIGINT);
	sigterm_ = sig(SIGTERM);
	sighup_ = sig(SIGHUP);
	sigusr1_ = sig(SIGUSR1);
	refusals_ev_.reset(event_new(base_, -1, EV_PERSIST, refusals_cb, this));
	timeval every = p2p::to_timeval(kRefusalLogInterval);
	event_add(refusals_ev_.get(), &every);
}

static std::string format_indexes(const std::vector<p2p::SockAddr>& indexes)
{
	std::string out;
	for (auto& a : indexes)
		out += (out.empty() ? "" : ",") + p2p::format_endpoint(a.get());
	return out;
}

bool Daemon::start(std::string* error)
{
	if (!open_share(error))
		return false;
	int lfd = serve::listen_socket(options_.port, error);
	if (lfd < 0)
		return false;
	std::vector<p2p::SockAddr> indexes;
	for (auto& index : options_.indexes) {
		std::string why;
		auto addr = p2p::resolve(index, &why);
		if (!addr) {
			close(lfd);
			*error = "cannot resolve the index " + index.host + ": " + why;
			return false;
		}
		indexes.push_back(*addr);
	}
	start_keeper();
	if (!start_server(lfd, error) || !start_metrics(error))
		return false;
	link_ = std::make_unique<p2p::RegistrationLink>(base_, indexes, options_.port, keeper_->table(), counters_, *identity_,
	                                    secret_ ? &*secret_ : nullptr);
	watch_signals();
	log_info("peer %u sharing %s on port %u (index %s%s%s), at most %zu connections", options_.id,
	         options_.dir.c_str(), options_.port, format_indexes(indexes).c_str(),
	         options_.rate_limit ? (", upload limit " + std::to_string(options_.rate_limit) + " B/s").c_str() : "",
	         secret_ ? ", closed cluster (frames MAC'd)" : "", server_->limits().max_connections);
	if (!keeper_->start(error))
		return false;
	link_->start();
	return true;
}

void Daemon::signal_cb(evutil_socket_t sig, short, void* self) { static_cast<Daemon*>(self)->on_signal(sig); }

void Daemon::refusals_cb(evutil_socket_t, short, void* self) { static_cast<Daemon*>(self)->log_refusals(false); }

// One warn line when something was refused or dropped since the last one.
void Daemon::log_refusals(bool force)
{
	std::uint64_t sum = counters_.refusals();
	if (sum == logged_refusals_ && !(force && sum > 0))
		return;
	logged_refusals_ = sum;
	log_warn("refused or dropped so far: %s", counters_.format_refusals().c_str());
}

void Daemon::on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		log_info("SIGHUP: rescanning %s", options_.dir.c_str());
		if (!stopping_)
			keeper_->rescan({""});
		break;
	case SIGUSR1:
		log_info("stats: %s", counters_.format().c_str());
		break;
	default:
		if (stopping_) {
			log_warn("second signal: exiting now");
			event_base_loopbreak(base_);
			return;
		}
		log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
		shutdown();
	}
}

void Daemon::shutdown()
{
	stopping_ = true;
	server_->drain(kGracePeriod, [this] {
		keeper_->save_cache();
		link_->unregister([this] {
			log_refusals(true);
			log_info("stats: %s", counters_.format().c_str());
			event_base_loopexit(base_, nullptr);
		});
	});
}

} // namespace peerd
