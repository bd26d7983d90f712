// Listener, session bookkeeping and limits.
#include "chunk-server.h"

#include "chunk-session.h"

#include "p2p/address.h"
#include "p2p/clock.h"
#include "p2p/codec.h"
#include "p2p/conn-limit.h"
#include "p2p/log.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <unistd.h>

namespace serve {

ChunkServer::ChunkServer(event_base* base, int listen_fd, ServeSource& source, Counters& counters,
                         ChunkServerLimits limits)
	: base_(base), source_(source), counters_(counters), limits_(limits), upload_(base, limits.rate_limit),
	  reaper_(base), resume_ev_(evtimer_new(base, resume_cb, this)), drain_ev_(evtimer_new(base, drain_cb, this)),
	  turns_ev_(event_new(base, -1, EV_PERSIST, turns_cb, this))
{
	if (upload_.failed())
		log_error("cannot set up the rate limit");
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
	// Sessions still open (a second signal stops the loop mid-transfer) go
	// before the rate-limit group; each leaves it as it goes.
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
		refuse_over_limit(fd, sa);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	counters_.connections++;
	auto s = std::make_unique<ChunkSession>(*this, fd, next_id_++);
	if (!s->bev()) {
		return; // the bufferevent could not be made; its fd is closed with it
	}
	ChunkSession* key = s.get();
	sessions_.emplace(key, std::move(s));
}

void ChunkServer::refuse_over_limit(evutil_socket_t fd, const sockaddr* sa)
{
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

// How often, while sessions wait or send in turns, their progress is read.
static constexpr double kTurnsTick = 0.01;

bool ChunkServer::request_turn(ChunkSession& s)
{
	if (!turns_.contended()) {
		timeval tv = p2p::to_timeval(kTurnsTick);
		evtimer_add(turns_ev_.get(), &tv);
	}
	double now = p2p::precise_now();
	turns_.ask(s.id(), now);
	admit_turns(now, &s);
	return turns_.has_turn(s.id());
}

void ChunkServer::end_turn(ChunkSession& s, double now, bool again)
{
	turns_.done(s.id(), now);
	if (again)
		turns_.ask(s.id(), now);
	admit_turns(now, &s);
}

void ChunkServer::admit_turns(double now, const ChunkSession* asking)
{
	auto in = turns_.admit(now);
	for (auto id : in)
		log_debug("session %" PRIu64 ": a turn to send (%zu sending, %zu slots, %.1f of %.1f MB/s)", id,
		          turns_.senders(), turns_.slots(), turns_.rate() / 1e6, turns_.peak() / 1e6);
	if (in.empty())
		return;
	// A session may close, and leave sessions_, while another is pumped.
	for (auto* s : live_sessions())
		if (s != asking && sessions_.count(s) && std::find(in.begin(), in.end(), s->id()) != in.end())
			s->pump();
}

void ChunkServer::turns_cb(evutil_socket_t, short, void* self) { static_cast<ChunkServer*>(self)->run_turns(); }

void ChunkServer::run_turns()
{
	double now = p2p::precise_now();
	for (auto& [key, s] : sessions_)
		acked_total_ += s->take_acked();
	turns_.acked(acked_total_, now);
	for (auto* s : live_sessions())
		if (sessions_.count(s) && turns_.has_turn(s->id()))
			s->check_turn(now, false); // take_acked() just read its state
	admit_turns(now, nullptr);
	if (!turns_.contended())
		evtimer_del(turns_ev_.get());
}

void ChunkServer::session_closed(ChunkSession* s, const std::string&)
{
	turns_.leave(s->id());
	auto it = sessions_.find(s);
	if (it == sessions_.end())
		return;
	reaper_.bury(std::move(it->second));
	sessions_.erase(it);
	if (draining_)
		check_drained();
}

void ChunkServer::announce(const std::string& name, std::uint32_t chunk)
{
	auto f = source_.find(name);
	if (!f || chunk >= f->chunk_count() || !f->chunk_verified(chunk))
		return;
	for (auto& [key, s] : sessions_)
		s->announce(name, *f, p2p::Have{name, chunk});
}

void ChunkServer::announce_fetching(const std::string& name, std::uint32_t chunk)
{
	auto f = source_.find(name);
	if (!f || chunk >= f->chunk_count() || f->chunk_verified(chunk))
		return;
	for (auto& [key, s] : sessions_)
		s->announce(name, *f, p2p::Fetching{name, chunk});
}

bool ChunkServer::busy() const
{
	for (auto& [key, s] : sessions_)
		if (s->busy())
			return true;
	return false;
}

void ChunkServer::stop_accepting()
{
	listener_.reset();
	draining_ = true;
}

std::vector<ChunkSession*> ChunkServer::live_sessions() const
{
	std::vector<ChunkSession*> all;
	for (auto& [key, s] : sessions_)
		all.push_back(key);
	return all;
}

void ChunkServer::drain(double seconds, std::function<void()> done)
{
	stop_accepting();
	drained_ = std::move(done);
	timeval tv = p2p::to_timeval(seconds);
	evtimer_add(drain_ev_.get(), &tv);
	auto all = live_sessions();
	if (!all.empty())
		log_info("letting %zu connections finish (at most %.0f s)", all.size(), seconds);
	// A session may close, and leave sessions_, while another drains.
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
	for (auto* sess : s->live_sessions())
		if (s->sessions_.count(sess))
			sess->close("shutdown grace period over");
	s->check_drained();
}

} // namespace serve
