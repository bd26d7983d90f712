// The chunk server: the listening socket, the sessions, the connection and
// idle limits, and the upload rate limit shared by every session.
#pragma once

#include "counters.h"
#include "share-keeper.h"

#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/reaper.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct ev_token_bucket_cfg;
struct bufferevent_rate_limit_group;

namespace peerd {

class ChunkSession;

struct ChunkServerLimits {
	std::size_t max_connections = 256;
	double idle_timeout = 60.0;    // no request and nothing to send
	std::uint64_t rate_limit = 0;  // bytes/s for all sessions together; 0: none
	const p2p::SecretKey* secret = nullptr; // closed cluster: every frame MAC'd
};

struct TokenBucketCfgDeleter {
	void operator()(ev_token_bucket_cfg* c) const;
};
struct RateLimitGroupDeleter {
	void operator()(bufferevent_rate_limit_group* g) const;
};

// Binds [::]:port (IPv4 too, through mapped addresses; 0.0.0.0 when the
// host has no IPv6) and listens. Returns the fd or -1 with `error`.
int listen_socket(std::uint16_t port, std::string* error);

class ChunkServer {
public:
	// Takes ownership of `listen_fd`.
	ChunkServer(event_base* base, int listen_fd, ShareKeeper& keeper, Counters& counters, ChunkServerLimits limits);
	ChunkServer(const ChunkServer&) = delete;
	ChunkServer& operator=(const ChunkServer&) = delete;
	~ChunkServer();

	bool ok() const { return listener_ != nullptr; }
	void stop_accepting();
	// Lets sessions finish what they were asked, for at most `seconds`;
	// then closes the rest and calls `done`.
	void drain(double seconds, std::function<void()> done);

	// For sessions.
	event_base* base() const { return base_; }
	ShareKeeper& keeper() { return keeper_; }
	Counters& counters() { return counters_; }
	const ChunkServerLimits& limits() const { return limits_; }
	// Largest piece of a chunk handed to the kernel at once (see chunk-session.cc).
	std::uint64_t piece_size() const { return piece_; }
	void session_closed(ChunkSession* s, const std::string& reason);

private:
	static void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
	static void accept_error_cb(evconnlistener*, void* self);
	static void resume_cb(evutil_socket_t, short, void* self);
	static void drain_cb(evutil_socket_t, short, void* self);
	void on_accept(evutil_socket_t fd, const sockaddr* sa);
	void on_accept_error();
	void check_drained();

	event_base* base_;
	ShareKeeper& keeper_;
	Counters& counters_;
	ChunkServerLimits limits_;
	std::uint64_t piece_ = 0;
	std::uint64_t next_id_ = 1;
	bool draining_ = false;
	long last_refusal_log_ = -1; // second of the last "connection limit" line
	std::function<void()> drained_;
	std::map<ChunkSession*, std::unique_ptr<ChunkSession>> sessions_;
	p2p::Reaper<ChunkSession> reaper_;
	std::unique_ptr<ev_token_bucket_cfg, TokenBucketCfgDeleter> bucket_cfg_;
	std::unique_ptr<bufferevent_rate_limit_group, RateLimitGroupDeleter> group_;
	p2p::EventPtr resume_ev_, drain_ev_;
	p2p::ListenerPtr listener_;
};

} // namespace peerd
