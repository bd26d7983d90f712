// The socket under a PeerFetch: frames out, frames and raw chunk bytes in.
// Not a bufferevent: libevent 2.1 reads a bufferevent 4 KiB per call
// (EVBUFFER_MAX_READ), which caps a download far below the network. Here
// a chunk body bound for the partial file is spliced there (socket -> pipe
// -> file, one kernel copy); other raw bytes are read up to 1 MiB per recv
// into the buffer the Engine lends every connection (PeerBuffers); frames
// go through the one framing step (p2p::frame_step), then the codec.
// Like FramedConn, every way it ends goes through one close(reason).
// Closed cluster (set_secret): each frame out is followed by its MAC, each
// frame in is verified before it is decoded, and a whole frame whose MAC
// has not followed within kMacGrace closes the connection; the raw bytes
// after a ChunkData frame are not covered and keep their zero-copy path.
#pragma once

#include "peer-buffers.h"

#include "p2p/address.h"
#include "p2p/codec.h"
#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/mac-timer.h"
#include "p2p/frame-step.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <sys/types.h>

namespace p2pget {

class PeerConn {
public:
	struct Callbacks {
		std::function<void()> on_connected;
		// May call send/close/expect_raw.
		std::function<void(p2p::Message&)> on_message;
		// Raw bytes after expect_raw(n), until n were delivered; the span
		// is valid during the call only.
		std::function<void(std::span<const std::byte>)> on_raw;
		// Where raw bytes may go straight from the socket with splice(2),
		// never through user space: a file descriptor and the offset of
		// the next byte, or -1 for "through on_raw". Asked before every
		// splice; bytes a write error left behind come through on_raw.
		std::function<int(std::uint64_t& offset)> raw_sink;
		// Raw bytes that went to the raw_sink file.
		std::function<void(std::size_t)> on_raw_in_file;
		std::function<void(const std::string& reason)> on_close;
	};

	// Starts a non-blocking connect; on_connected or on_close follows from
	// the loop, never from inside the constructor. `buffers` must outlive
	// the connection.
	PeerConn(event_base* base, const p2p::SockAddr& addr, PeerBuffers& buffers, Callbacks cb);
	PeerConn(const PeerConn&) = delete;
	PeerConn& operator=(const PeerConn&) = delete;
	~PeerConn();

	// Before the first send.
	void set_secret(const p2p::SecretKey& key) { auth_.emplace(key, true); }
	void send(const p2p::Message& msg);
	void expect_raw(std::size_t n) { raw_left_ = n; }
	// Closes the socket now; on_close runs once. Idempotent.
	void close(const std::string& reason);
	bool closed() const { return fd_ < 0; }
	// Closed for a frame whose MAC was missing or wrong, or late.
	bool bad_auth() const { return bad_auth_; }
	// SO_RCVLOWAT: wake only once this many bytes are waiting.
	void set_low_water(int bytes);

private:
	static void read_cb(evutil_socket_t, short, void* self);
	static void write_cb(evutil_socket_t, short, void* self);
	void on_readable();
	void on_writable();
	bool flush();
	bool deliver(std::span<const std::byte> bytes, std::size_t& used);
	bool deliver_raw(std::span<const std::byte> bytes);
	void refuse(const p2p::Refusal& r);
	// Closed cluster: a timer for the MAC grace, armed only while a whole
	// frame waits for its MAC.
	void watch_mac();
	void on_mac_timer();
	// These return 1: read some, go on; 0: socket drained; -1: closed.
	int read_some(std::size_t& budget);
	int splice_raw(int sink, std::uint64_t offset);
	int recv_raw(std::size_t& budget);
	int recv_frames(std::size_t& budget);
	// A recv that returned nothing: 1 for EINTR, 0 for EAGAIN, else closes.
	int recv_ended(ssize_t n);
	void drain_pipe(std::size_t left);

	Callbacks cb_;
	PeerBuffers& buffers_;
	int fd_ = -1;
	bool connected_ = false;
	int connect_errno_ = 0;
	std::size_t raw_left_ = 0;
	std::optional<p2p::FrameAuth> auth_;
	bool bad_auth_ = false;
	// No frame deadline of its own (PeerFetch times each request), only the
	// MAC grace.
	p2p::FrameWatch watch_;
	bool awaiting_mac_ = false; // the last step's word
	bool frame_done_ = false;   // a frame completed since the last watch_mac
	std::vector<std::byte> in_;  // bytes of frames not yet decoded
	std::vector<std::byte> out_; // bytes not yet sent
	std::size_t out_sent_ = 0;
	p2p::EventPtr read_ev_;
	p2p::EventPtr write_ev_;
	p2p::MacTimer mac_timer_;
};

} // namespace p2pget
