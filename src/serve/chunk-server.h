// The chunk server: the listening socket, the sessions, the connection and
// idle limits, and the upload rate limit shared by every session. What it
// serves comes from a ServeSource; what it counts goes to serve::Counters.
#pragma once

#include "recent-sends.h"
#include "send-turns.h"
#include "serve-counters.h"
#include "serve-source.h"
#include "upload-limit.h"

#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/reaper.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace serve {

class ChunkSession;

struct ChunkServerLimits {
	std::size_t max_connections = 256;
	double idle_timeout = 60.0;    // no request and nothing to send
	std::uint64_t rate_limit = 0;  // bytes/s for all sessions together; 0: none
	const p2p::SecretKey* secret = nullptr; // closed cluster: every frame MAC'd
};

class ChunkServer {
public:
	// Takes ownership of `listen_fd`. `source` and `counters` outlive it.
	ChunkServer(event_base* base, int listen_fd, ServeSource& source, Counters& counters, ChunkServerLimits limits);
	ChunkServer(const ChunkServer&) = delete;
	ChunkServer& operator=(const ChunkServer&) = delete;
	~ChunkServer();

	bool ok() const { return listener_ != nullptr; }
	void stop_accepting();
	// Lets sessions finish what they were asked, for at most `seconds`;
	// then closes the rest and calls `done`.
	void drain(double seconds, std::function<void()> done);
	// The owner verified `chunk` of `name` (and find() now says so): every
	// session whose client asked a HAVE_MAP of that version gets a HAVE.
	void announce(const std::string& name, std::uint32_t chunk);
	// The owner asked a complete holder for `chunk` of `name`: the same
	// sessions get a FETCHING.
	void announce_fetching(const std::string& name, std::uint32_t chunk);
	// Some session has a request to answer or bytes still to send.
	bool busy() const;

	// For sessions.
	event_base* base() const { return base_; }
	ServeSource& source() { return source_; }
	Counters& counters() { return counters_; }
	const ChunkServerLimits& limits() const { return limits_; }
	UploadLimit& upload_limit() { return upload_; }
	RecentSends& recent_sends() { return recent_; }
	SendTurns& turns() { return turns_; }
	// `s` has a chunk to send: whether it may now (see send-turns.h).
	bool request_turn(ChunkSession& s);
	// `s`'s turn is over; `again`: it has another chunk to send.
	void end_turn(ChunkSession& s, double now, bool again);
	void session_closed(ChunkSession* s, const std::string& reason);

private:
	static void accept_cb(evconnlistener*, evutil_socket_t fd, sockaddr*, int, void* self);
	static void accept_error_cb(evconnlistener*, void* self);
	static void resume_cb(evutil_socket_t, short, void* self);
	static void drain_cb(evutil_socket_t, short, void* self);
	static void turns_cb(evutil_socket_t, short, void* self);
	void run_turns();
	void admit_turns(double now, const ChunkSession* asking);
	void on_accept(evutil_socket_t fd, const sockaddr* sa);
	void refuse_over_limit(evutil_socket_t fd, const sockaddr* sa);
	void on_accept_error();
	void check_drained();
	std::vector<ChunkSession*> live_sessions() const;

	event_base* base_;
	ServeSource& source_;
	Counters& counters_;
	ChunkServerLimits limits_;
	RecentSends recent_;
	SendTurns turns_;
	std::uint64_t acked_total_ = 0; // by every session, while turns are watched
	std::uint64_t next_id_ = 1;
	bool draining_ = false;
	long last_refusal_log_ = -1; // second of the last "connection limit" line
	std::function<void()> drained_;
	// Before the sessions: they leave its group as they go.
	UploadLimit upload_;
	std::map<ChunkSession*, std::unique_ptr<ChunkSession>> sessions_;
	p2p::Reaper<ChunkSession> reaper_;
	p2p::EventPtr resume_ev_, drain_ev_, turns_ev_;
	p2p::ListenerPtr listener_;
};

} // namespace serve
