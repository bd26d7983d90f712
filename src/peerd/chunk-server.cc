// Listener, session bookkeeping, limits and the shared upload bucket.
#include "chunk-server.h"

#include "chunk-session.h"

#include "p2p/address.h"
#include "p2p/codec.h"
#include "p2p/conn-limit.h"
#include "p2p/log.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace peerd {

void TokenBucketCfgDeleter::operator()(ev_token_bucket_cfg* c) const { ev_token_bucket_cfg_free(c); }
void RateLimitGroupDeleter::operator()(bufferevent_rate_limit_group* g) const
{
	bufferevent_rate_limit_group_free(g);
}

int listen_socket(std::uint16_t port, std::string* error)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool v6 = fd >= 0;
	if (!v6)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error = std::string("socket: ") + std::strerror(errno);
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int rc;
	if (v6) {
		// Dual stack whatever net.ipv6.bindv6only says.
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		sockaddr_in6 sa{};
		sa.sin6_family = AF_INET6;
		sa.sin6_addr = in6addr_any;
		sa.sin6_port = htons(port);
		rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	} else {
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		sa.sin_port = htons(port);
		rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	}
	if (rc != 0 || listen(fd, 511) != 0) {
		*error = "cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

ChunkServer::ChunkServer(event_base* base, int listen_fd, ShareKeeper& keeper, Counters& counters,
                         ChunkServerLimits limits)
	: base_(base), keeper_(keeper), counters_(counters), limits_(limits),
	  reaper_(base), resume_ev_(evtimer_new(base, resume_cb, this)), drain_ev_(evtimer_new(base, drain_cb, this))
{
	if (limits_.rate_limit > 0) {
		// A 100 ms tick keeps the rate smooth; the bucket holds one tick.
		timeval tick = p2p::to_timeval(0.1);
		std::uint64_t per_tick = std::max<std::uint64_t>(limits_.rate_limit / 10, 1);
		bucket_cfg_.reset(ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, per_tick, per_tick, &tick));
		if (bucket_cfg_)
			group_.reset(bufferevent_rate_limit_group_new(base, bucket_cfg_.get()));
		piece_ = std::clamp<std::uint64_t>(per_tick, 1024, 256 * 1024);
		if (!group_)
			log_error("cannot set up the rate limit");
	}
	listener_.reset(evconnlistener_new(base, accept_cb, this, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
	                                   listen_fd));
	if (!listener_) {
		close(listen_fd);
		return;
	}
	evconnlistener_set_error_cb(listener_.get(), accept_error_cb);
}

ChunkServer::~ChunkServer()
{
	// Sessions leave the rate-limit group before it is freed.
	sessions_.clear();
	reaper_.clear();
}

void ChunkServer::accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int, void* self)
{
	static_cast<ChunkServer*>(self)->on_accept(fd, sa);
}

void ChunkServer::on_accept(evutil_socket_t fd, const sockaddr* sa)
{
	if (draining_) {
		close(fd);
		return;
	}
	if (sessions_.size() >= limits_.max_connections) {
		counters_.connections_refused++;
		// A flood must not become a flood of log lines: at most one a second.
		timeval now{};
		event_base_gettimeofday_cached(base_, &now);
		if (now.tv_sec != last_refusal_log_) {
			last_refusal_log_ = now.tv_sec;
			log_warn("connection limit (%zu) reached: refusing %s (%llu refused so far)", limits_.max_connections,
			         p2p::format_endpoint(sa).c_str(), static_cast<unsigned long long>(counters_.connections_refused));
		}
		p2p::refuse_connection(fd, p2p::ErrorCode::Busy, "too many connections, try later", limits_.secret);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	counters_.connections++;
	auto s = std::make_unique<ChunkSession>(*this, fd, next_id_++);
	if (!s->bev()) {
		return; // the bufferevent could not be made; its fd is closed with it
	}
	if (group_)
		bufferevent_add_to_rate_limit_group(s->bev(), group_.get());
	ChunkSession* key = s.get();
	sessions_.emplace(key, std::move(s));
}

void ChunkServer::accept_error_cb(evconnlistener*, void* self) { static_cast<ChunkServer*>(self)->on_accept_error(); }

void ChunkServer::on_accept_error()
{
	int err = EVUTIL_SOCKET_ERROR();
	// Out of fds (EMFILE/ENFILE): pause instead of spinning on a listener
	// that stays readable.
	log_warn("accept: %s; pausing for a second", evutil_socket_error_to_string(err));
	evconnlistener_disable(listener_.get());
	timeval tv = p2p::to_timeval(1.0);
	evtimer_add(resume_ev_.get(), &tv);
}

void ChunkServer::resume_cb(evutil_socket_t, short, void* self)
{
	auto* s = static_cast<ChunkServer*>(self);
	if (s->listener_ && !s->draining_)
		evconnlistener_enable(s->listener_.get());
}

void ChunkServer::session_closed(ChunkSession* s, const std::string&)
{
	auto it = sessions_.find(s);
	if (it == sessions_.end())
		return;
	if (group_ && s->bev())
		bufferevent_remove_from_rate_limit_group(s->bev());
	reaper_.bury(std::move(it->second));
	sessions_.erase(it);
	if (draining_)
		check_drained();
}

void ChunkServer::stop_accepting()
{
	listener_.reset();
	draining_ = true;
}

void ChunkServer::drain(double seconds, std::function<void()> done)
{
	stop_accepting();
	drained_ = std::move(done);
	timeval tv = p2p::to_timeval(seconds);
	evtimer_add(drain_ev_.get(), &tv);
	std::vector<ChunkSession*> all;
	for (auto& [key, s] : sessions_)
		all.push_back(key);
	if (!all.empty())
		log_info("letting %zu connections finish (at most %.0f s)", all.size(), seconds);
	for (auto* s : all)
		if (sessions_.count(s))
			s->drain();
	check_drained();
}

void ChunkServer::check_drained()
{
	if (!sessions_.empty() || !drained_)
		return;
	evtimer_del(drain_ev_.get());
	auto done = std::move(drained_);
	drained_ = nullptr;
	done();
}

void ChunkServer::drain_cb(evutil_socket_t, short, void* self)
{
	auto* s = static_cast<ChunkServer*>(self);
	if (!s->sessions_.empty())
		log_warn("closing %zu connections still busy after the grace period", s->sessions_.size());
	std::vector<ChunkSession*> all;
	for (auto& [key, sess] : s->sessions_)
		all.push_back(key);
	for (auto* sess : all)
		if (s->sessions_.count(sess))
			sess->close("shutdown grace period over");
	s->check_drained();
}

} // namespace peerd
