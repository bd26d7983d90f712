// indexd's server: the listener, every session, the store's owner-side
// bookkeeping (which live connection owns which peer), the timer that
// expires peers and drops stalled connections, and the signal events.
#pragma once

#include "counters.h"
#include "index-session.h"
#include "index-store.h"
#include "options.h"

#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/identity.h"
#include "p2p/message.h"
#include "p2p/metrics-server.h"
#include "p2p/metrics.h"
#include "p2p/reaper.h"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace indexd {

class IndexServer {
public:
	IndexServer(event_base* base, IndexStore& store, const Options& opts);
	IndexServer(const IndexServer&) = delete;
	IndexServer& operator=(const IndexServer&) = delete;
	~IndexServer();

	// Closed cluster: every frame of every connection accepted from now on
	// must carry a MAC made with `key`, and every frame sent carries one.
	void set_secret(const p2p::SecretKey& key) { secret_ = key; }

	// Binds, listens, and arms the timer and the signal events.
	bool start(std::string& error);

	IndexStore& store() { return store_; }
	// Seconds a peer may stay silent, and a begun frame may take.
	double ttl() const { return opts_.ttl; }
	Counters& counters() { return counters_; }
	// Monotonic seconds, coarse (a few ms): cheap enough for every read.
	double now() const;
	p2p::StatsReply stats_reply() const;
	// GET /metrics: the STATS counters and gauges in the Prometheus text
	// format (index-metrics.cc).
	std::string metrics_text() const;
	// Request latency in the server, kept only when metrics are served.
	bool timing_requests() const { return metrics_ != nullptr; }
	void requests_took(double seconds, std::uint64_t requests) { latency_.observe(seconds, requests); }

	// Called by sessions.
	void peer_registered(PeerId id, IndexSession* owner);
	void peer_gone(PeerId id); // unregister, re-register, or connection closed
	// `by` registers `key` signed with `signer`, and `key` is live: when its
	// owner is bound to the same key, drop the owner's registration and close
	// it, and return true (the caller adds its own); else false.
	bool take_over(const PeerKey& key, const p2p::PublicKey& signer, IndexSession& by);
	void session_closed(IndexSession& session, const std::string& reason);
	// An asynchronous store let `by` take `key` over from our peer `old`
	// (same key): close the old one's session.
	void replaced_by(PeerId old, IndexSession& by, const PeerKey& key);

private:
	static void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* self);
	static void accept_error_cb(evconnlistener*, void* self);
	static void tick_cb(evutil_socket_t, short, void* self);
	static void signal_cb(evutil_socket_t sig, short, void* self);
	static void resume_cb(evutil_socket_t, short, void* self);
	void on_accept(evutil_socket_t fd, const sockaddr* sa);
	void on_accept_error();
	void on_tick();
	// Peers an asynchronous store lost to another indexd: closed.
	void close_lost();
	void add_store_stats(p2p::StatsReply& reply) const;
	void on_signal(int sig);
	// One warn line with what was refused or dropped, when it changed since
	// the last one (at most every kRefusalLogInterval), or always (`force`).
	void log_refusals(bool force);

	event_base* base_;
	IndexStore& store_;
	Options opts_;
	Counters counters_;
	double started_;
	std::uint64_t next_session_ = 1;
	std::unordered_map<IndexSession*, std::unique_ptr<IndexSession>> sessions_;
	std::size_t max_sessions_ = 0; // from the descriptor limit
	double last_limit_log_ = 0;
	double last_refusal_log_ = 0;
	std::uint64_t logged_refusals_ = 0; // the sum of the refusal counters at the last line
	std::optional<p2p::SecretKey> secret_;
	std::unordered_map<PeerId, IndexSession*> owners_;
	p2p::Reaper<IndexSession> reaper_;
	p2p::EventPtr tick_;
	p2p::EventPtr resume_;
	p2p::EventPtr sigint_;
	p2p::EventPtr sigterm_;
	std::unique_ptr<p2p::MetricsServer> metrics_;
	p2p::Histogram latency_{{1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1}};
	p2p::ListenerPtr listener_;
};

} // namespace indexd
