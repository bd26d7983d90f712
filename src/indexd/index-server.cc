// The listener, the sessions, the expiry timer and the signal events.
#include "index-server.h"

#include "async-store.h"

#include "p2p/address.h"
#include "p2p/clock.h"
#include "p2p/conn-limit.h"
#include "p2p/log.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace indexd {
namespace {

constexpr int kBacklog = 1024;
// Descriptors kept back from connections: listener, signals, timers, logs,
// and one to accept a connection in order to turn it away.
constexpr std::size_t kReservedFds = 16;
constexpr std::size_t kMaxSessions = 1 << 20;
// At most one summary line of refusals per this many seconds: a flood of
// bad clients must not flood the log.
constexpr double kRefusalLogInterval = 10.0;

// Binds a listening socket: every interface (IPv6 "::" taking IPv4 too,
// falling back to 0.0.0.0 without IPv6), or just `addr`.
int open_listener(const Options& opts, std::string& error, std::string& where)
{
	p2p::SockAddr sa;
	bool any = opts.listen.empty();
	if (any) {
		auto* in6 = reinterpret_cast<sockaddr_in6*>(&sa.storage);
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_any;
		in6->sin6_port = htons(opts.port);
		sa.len = sizeof(sockaddr_in6);
	} else {
		std::string why;
		auto r = p2p::resolve({opts.listen, opts.port}, &why);
		if (!r) {
			error = "cannot resolve listen address '" + opts.listen + "': " + why;
			return -1;
		}
		sa = *r;
	}
	int fd = ::socket(sa.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
		auto* in = reinterpret_cast<sockaddr_in*>(&sa.storage);
		std::memset(&sa.storage, 0, sizeof sa.storage);
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_ANY);
		in->sin_port = htons(opts.port);
		sa.len = sizeof(sockaddr_in);
		fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	where = p2p::format_endpoint(sa.get());
	if (fd < 0) {
		error = std::string("socket: ") + std::strerror(errno);
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (any && sa.family() == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (::bind(fd, sa.get(), sa.len) != 0) {
		error = "cannot listen on " + where + ": " + std::strerror(errno);
		::close(fd);
		return -1;
	}
	return fd;
}

} // namespace

IndexServer::IndexServer(event_base* base, IndexStore& store, const Options& opts)
	: base_(base), store_(store), opts_(opts), started_(now()), reaper_(base)
{
}

IndexServer::~IndexServer() = default;

double IndexServer::now() const { return p2p::coarse_now(); }

bool IndexServer::start(std::string& error)
{
	std::string where;
	int fd = open_listener(opts_, error, where);
	if (fd < 0)
		return false;
	listener_.reset(evconnlistener_new(base_, accept_cb, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	                                   kBacklog, fd));
	if (!listener_) {
		error = "cannot listen on " + where + ": " + std::strerror(errno);
		::close(fd);
		return false;
	}
	evconnlistener_set_error_cb(listener_.get(), accept_error_cb);
	max_sessions_ = p2p::connection_budget(kReservedFds, kMaxSessions);

	resume_.reset(event_new(base_, -1, 0, resume_cb, this));
	// Check several times per TTL, so expiry and frame timeouts land within
	// about a quarter TTL of their due time (and within a second at most).
	tick_.reset(event_new(base_, -1, EV_PERSIST, tick_cb, this));
	timeval tv = p2p::to_timeval(std::clamp(opts_.ttl / 4, 0.05, 1.0));
	sigint_.reset(evsignal_new(base_, SIGINT, signal_cb, this));
	sigterm_.reset(evsignal_new(base_, SIGTERM, signal_cb, this));
	if (!resume_ || !tick_ || !sigint_ || !sigterm_ || event_add(tick_.get(), &tv) != 0 ||
	    event_add(sigint_.get(), nullptr) != 0 || event_add(sigterm_.get(), nullptr) != 0) {
		error = "cannot set up timers and signal events";
		return false;
	}
	if (opts_.metrics) {
		metrics_ = std::make_unique<p2p::MetricsServer>(base_, [this] { return metrics_text(); });
		if (!metrics_->listen(*opts_.metrics, &error))
			return false;
	}
	log_info("listening on %s, TTL %g s, at most %zu connections%s, store %s", where.c_str(), opts_.ttl,
	         max_sessions_, secret_ ? ", closed cluster (frames MAC'd)" : "",
	         store_.async() ? store_.async()->where().c_str() : "memory");
	return true;
}

void IndexServer::accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* self)
{
	static_cast<IndexServer*>(self)->on_accept(fd, sa);
}
void IndexServer::accept_error_cb(evconnlistener*, void* self) { static_cast<IndexServer*>(self)->on_accept_error(); }
void IndexServer::tick_cb(evutil_socket_t, short, void* self) { static_cast<IndexServer*>(self)->on_tick(); }
void IndexServer::signal_cb(evutil_socket_t sig, short, void* self)
{
	static_cast<IndexServer*>(self)->on_signal(static_cast<int>(sig));
}
void IndexServer::resume_cb(evutil_socket_t, short, void* self)
{
	auto* s = static_cast<IndexServer*>(self);
	log_info("accepting connections again");
	evconnlistener_enable(s->listener_.get());
}

void IndexServer::on_accept(evutil_socket_t fd, const sockaddr* sa)
{
	if (sessions_.size() >= max_sessions_) {
		counters_.conn_limit++;
		if (now() - last_limit_log_ >= 1.0) {
			last_limit_log_ = now();
			log_warn("connection limit (%zu) reached; turning new connections away", max_sessions_);
		}
		p2p::refuse_connection(fd, p2p::ErrorCode::Busy, "too many connections; try again later",
		                       secret_ ? &*secret_ : nullptr);
		return;
	}
	auto session = std::make_unique<IndexSession>(*this, base_, fd, sa, next_session_++,
	                                              secret_ ? &*secret_ : nullptr);
	if (session->closed()) {
		log_warn("cannot set up a connection from %s", p2p::format_endpoint(sa).c_str());
		return;
	}
	counters_.connections++;
	counters_.connections_open++;
	log_debug("session %llu: %s connected", static_cast<unsigned long long>(session->id()), session->name().c_str());
	IndexSession* raw = session.get();
	sessions_.emplace(raw, std::move(session));
}

void IndexServer::on_accept_error()
{
	int err = EVUTIL_SOCKET_ERROR();
	counters_.accept_errors++;
	log_warn("accept: %s", evutil_socket_error_to_string(err));
	// Out of descriptors: pause for a second rather than spin on a
	// listener that stays readable.
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(listener_.get());
		timeval tv{1, 0};
		event_add(resume_.get(), &tv);
	}
}

void IndexServer::on_tick()
{
	double t = now();
	for (PeerId id : store_.expire(t - opts_.ttl)) {
		counters_.expired++;
		auto it = owners_.find(id);
		if (it == owners_.end())
			continue;
		IndexSession* s = it->second;
		owners_.erase(it);
		log_info("%s: peer expired: nothing heard for %g s", s->name().c_str(), opts_.ttl);
		s->expired("nothing heard for the TTL");
	}
	if (store_.async())
		close_lost();
	// A frame must be finished within a TTL of its first byte (a whole frame
	// waiting for its MAC has its own 2 s timer, IndexSession::watch_mac); a
	// connection that never registered may idle for two TTLs (registered
	// peers are held to the TTL itself, by expiry above).
	std::vector<std::pair<IndexSession*, std::optional<p2p::Refusal>>> late;
	for (auto& [raw, s] : sessions_) {
		if (s->closed())
			continue;
		auto verdict = s->frame_verdict(t);
		if (verdict || (!s->registered() && t - s->last_frame() > 2 * opts_.ttl))
			late.emplace_back(raw, verdict);
	}
	for (auto& [s, verdict] : late) {
		if (verdict) {
			s->refuse_late(*verdict);
			continue;
		}
		counters_.timeouts++;
		log_info("%s: idle for two TTLs; closing", s->name().c_str());
		s->fail(p2p::ErrorCode::Timeout, "idle too long");
	}
	log_refusals(false);
}

void IndexServer::on_signal(int sig)
{
	log_info("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
	log_refusals(true);
	// Tell everyone why, as far as their socket buffers take it at once;
	// nobody is waited for.
	for (auto& [raw, s] : sessions_)
		s->goodbye();
	event_base_loopbreak(base_);
}

void IndexServer::log_refusals(bool force)
{
	std::uint64_t sum = counters_.refusals();
	if (sum == logged_refusals_ && !(force && sum > 0))
		return;
	double t = now();
	if (!force && t - last_refusal_log_ < kRefusalLogInterval)
		return;
	last_refusal_log_ = t;
	logged_refusals_ = sum;
	log_warn("refused or dropped so far: %s", p2p::format_counters(counters_.refusal_pairs()).c_str());
}

void IndexServer::peer_registered(PeerId id, IndexSession* owner) { owners_[id] = owner; }

bool IndexServer::take_over(const PeerKey& key, const p2p::PublicKey& signer, IndexSession& by)
{
	PeerId id = 0;
	if (!store_.find(key, id))
		return false;
	auto it = owners_.find(id);
	if (it == owners_.end() || it->second == &by)
		return false;
	IndexSession* old = it->second;
	const p2p::PublicKey* bound = old->bound_key();
	if (!bound || *bound != signer)
		return false;
	counters_.takeovers++;
	log_info("%s: replaces %s as %s (same key)", by.name().c_str(), old->name().c_str(),
	         p2p::format_endpoint(key.host, key.port).c_str());
	owners_.erase(it);
	store_.remove(id);
	old->replaced(by.name());
	return true;
}

void IndexServer::close_lost()
{
	for (PeerId id : store_.async()->take_lost()) {
		auto it = owners_.find(id);
		if (it == owners_.end())
			continue;
		IndexSession* s = it->second;
		owners_.erase(it);
		counters_.takeovers++;
		log_info("%s: registration taken over through another indexd", s->name().c_str());
		s->replaced("a connection to another indexd");
	}
}

void IndexServer::replaced_by(PeerId old, IndexSession& by, const PeerKey& key)
{
	auto it = owners_.find(old);
	if (it == owners_.end() || it->second == &by)
		return;
	IndexSession* s = it->second;
	owners_.erase(it);
	counters_.takeovers++;
	log_info("%s: replaces %s as %s (same key)", by.name().c_str(), s->name().c_str(),
	         p2p::format_endpoint(key.host, key.port).c_str());
	s->replaced(by.name());
}

void IndexServer::peer_gone(PeerId id)
{
	store_.remove(id);
	owners_.erase(id);
}

void IndexServer::session_closed(IndexSession& session, const std::string& reason)
{
	counters_.connections_open--;
	if (session.registered()) {
		counters_.peers_closed++;
		log_info("%s: peer removed: %s", session.name().c_str(), reason.c_str());
		peer_gone(session.peer());
	} else {
		log_debug("%s: closed: %s", session.name().c_str(), reason.c_str());
	}
	auto it = sessions_.find(&session);
	if (it == sessions_.end())
		return;
	reaper_.bury(std::move(it->second));
	sessions_.erase(it);
}

p2p::StatsReply IndexServer::stats_reply() const
{
	StoreStats s = store_.stats();
	p2p::StatsReply reply{{
		{"peers", s.peers},
		{"files", s.registrations},
		// Not counters: peers read the TTL to ping within it, and clients
		// the feature bits to learn what this index speaks.
		{"ttl_ms", static_cast<std::uint64_t>(opts_.ttl * 1000)},
		{"features", p2p::kFeaturePartialHolders},
		{"names", s.names},
	}};
	for (auto& pair : counters_.pairs())
		reply.counters.push_back(std::move(pair));
	reply.counters.emplace_back("uptime_s", static_cast<std::uint64_t>(now() - started_));
	add_store_stats(reply);
	return reply;
}

// Which store, and how it is: store_redis 0 is the in-memory table.
void IndexServer::add_store_stats(p2p::StatsReply& reply) const
{
	AsyncStore* a = const_cast<IndexStore&>(store_).async();
	reply.counters.emplace_back("store_redis", a ? 1 : 0);
	if (!a)
		return;
	reply.counters.emplace_back("redis_connected", a->connected() ? 1 : 0);
	reply.counters.emplace_back("redis_in_flight", a->in_flight());
	reply.counters.emplace_back("redis_errors", a->errors());
}

} // namespace indexd
