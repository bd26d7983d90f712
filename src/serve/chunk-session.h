// One client connection to the chunk server: manifest and chunk requests,
// answered strictly in the order received, chunk bytes sent by the kernel.
#pragma once

#include "chunk-maps.h"
#include "upload-limit.h"

#include "p2p/ev.h"
#include "p2p/framed-conn.h"

#include <deque>
#include <memory>
#include <string>

namespace serve {

class ChunkServer;

class ChunkSession {
public:
	ChunkSession(ChunkServer& server, evutil_socket_t fd, std::uint64_t id);
	ChunkSession(const ChunkSession&) = delete;
	ChunkSession& operator=(const ChunkSession&) = delete;
	ChunkSession(ChunkSession&&) = delete;

	// Shutdown: read no more requests, finish the ones received, then close.
	void drain();
	void close(const std::string& reason) { conn_.close(reason); }
	bool busy() const { return !queue_.empty() || conn_.output_length() > 0; }
	std::uint64_t id() const { return id_; }
	bufferevent* bev() const { return conn_.bev(); }
	// News of `name` (now `f`): a HAVE or FETCHING, sent if this session's
	// client asked a HAVE_MAP of that version (session-maps.cc).
	void announce(const std::string& name, const ServedFile& f, const p2p::Message& news);

	// Send turns (send-turns.h). The bytes our client acknowledged since
	// the last call; it reads the socket's state.
	std::uint64_t take_acked();
	// Ends our turn once its last bytes are nearly through, asking for
	// the next if a chunk request waits. `fresh`: read the socket's state
	// first, else use what take_acked() read just now.
	void check_turn(double now, bool fresh);
	// Answers what the queue holds, as far as turns and the output allow.
	void pump();

private:
	void on_message(p2p::Message& msg);
	void on_close(const std::string& reason);
	bool wants_turn() const;
	bool take_turn();
	void read_send_state();
	void serve(const p2p::ManifestRequest& req);
	void serve(const p2p::ChunkRequest& req);
	void serve(const p2p::ChunkRequestSpare& req);
	void serve(const p2p::HaveRequest& req);
	// The file's fd for `req`, or -1 once refused.
	int open_for(const p2p::ChunkRequest& req);
	void send_file(int fd, const p2p::ChunkRequest& req);
	void refuse(p2p::ErrorCode code, std::uint32_t ref, const std::string& text);
	void update_timeouts();
	p2p::StatsReply stats_reply() const;

	ChunkServer& server_;
	std::uint64_t id_;
	std::deque<p2p::Message> queue_;
	bool draining_ = false;
	bool reading_paused_ = false;
	HaveSubscriptions haves_;
	int timeout_mode_ = -1; // 0: idle (read timeout), 1: busy (write timeout)
	std::uint32_t turn_chunks_ = 0; // chunks sent in this turn
	std::uint64_t acked_ = 0, kernel_queued_ = 0; // at the last read_send_state()
	std::uint64_t unreported_acked_ = 0;          // since the last take_acked()
	p2p::FramedConn conn_;
	// After conn_, so it leaves the rate-limit group before the bufferevent goes.
	UploadLimit::Membership limited_;
};

} // namespace serve
