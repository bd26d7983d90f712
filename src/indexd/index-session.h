// One connection to indexd: frames in, replies out, and the peer
// registration it owns. Lean on purpose: lookups are the hot path, so all
// whole frames in the input are handled in one read callback, lookups and
// pings are answered without building a Message, and every reply of a batch
// is written into one reused scratch buffer and handed to the kernel
// once. Plain events and system calls rather than a bufferevent: one recv
// and one send per batch, nothing more (see on_readable and flush).
#pragma once

#include "index-store.h"

#include "p2p/codec.h"
#include "p2p/ev.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace indexd {

class IndexServer;

class IndexSession {
public:
	IndexSession(IndexServer& server, event_base* base, evutil_socket_t fd, const sockaddr* addr, std::uint64_t id);
	IndexSession(const IndexSession&) = delete;
	IndexSession& operator=(const IndexSession&) = delete;
	IndexSession(IndexSession&&) = delete;
	IndexSession& operator=(IndexSession&&) = delete;
	~IndexSession();

	// Sends an Error, stops reading, and closes once it is written (or after
	// 2 s if the other side does not read).
	void fail(p2p::ErrorCode code, const std::string& text);
	// Closes now; calls IndexServer::session_closed exactly once.
	void close(const std::string& reason);
	// The server is stopping: queue ERROR shutdown and write what the socket
	// takes now, without waiting.
	void goodbye();
	// The store already dropped our peer (TTL expiry): forget it, then fail.
	void expired(const std::string& text);

	bool registered() const { return registered_; }
	PeerId peer() const { return peer_; }
	bool closed() const { return closed_; }
	const std::string& name() const { return name_; }
	std::uint64_t id() const { return id_; }
	// Monotonic seconds: since when a frame has been left unfinished (0: none)
	// and when the last whole frame arrived.
	double partial_since() const { return partial_since_; }
	double last_frame() const { return last_frame_; }

private:
	static void read_cb(evutil_socket_t, short, void* self);
	static void write_cb(evutil_socket_t, short what, void* self);
	void on_readable();
	void on_writable(short what);
	void process_input();
	void arm_write();

	// Handles the whole frames at the start of [p, p+n); returns the bytes used.
	std::size_t handle_frames(const std::byte* p, std::size_t n);
	void handle_frame(p2p::MsgType type, const std::byte* frame, std::size_t len);
	void handle_lookup(const std::byte* payload, std::size_t len);
	void handle_message(p2p::Message& msg);
	void on_register(p2p::Register& m);
	void on_update(p2p::Update& m);
	void on_unregister();
	void reply(const p2p::Message& msg);
	void bad_frame(p2p::ErrorCode code, const char* why);
	void flush();

	IndexServer& server_;
	std::uint64_t id_;
	std::string name_;   // "[addr]:port" of the connection, for logs
	p2p::IpBytes host_{}; // the source address: a peer's host is never taken from a message
	bool registered_ = false;
	PeerId peer_ = 0;
	std::uint16_t port_ = 0; // announced with REGISTER
	bool closed_ = false;
	bool closing_ = false; // fail() sent its Error; waiting for it to drain
	bool paused_ = false;  // reading stopped until the client reads its replies
	std::string fail_reason_;
	double partial_since_ = 0;
	double last_frame_ = 0;
	std::vector<std::byte> out_;            // replies of the current batch
	std::vector<p2p::PeerHolding> holders_; // reused by every lookup
	std::unique_ptr<std::byte[]> in_;       // unread input, at most one largest frame
	std::size_t in_cap_ = 0, in_len_ = 0;
	evutil_socket_t fd_;
	p2p::EvBufferPtr outq_; // replies the kernel has not taken yet
	// Last, so they are freed first (the destructor also resets them
	// before closing fd_).
	p2p::EventPtr read_ev_;
	p2p::EventPtr write_ev_;
};

} // namespace indexd
