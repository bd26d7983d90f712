// A bufferevent speaking our frames: pulls bytes, decodes, drains what was
// consumed, and hands each message to its owner. Every way a connection
// ends (EOF, socket error, timeout, bad frame, owner's choice) goes through
// one close(reason) path, which calls on_close exactly once. The owner must
// not delete the FramedConn from inside a callback: park it and free it on
// the next turn of the loop (p2p::Reaper).
#pragma once

#include "p2p/codec.h"
#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/frame-step.h"
#include "p2p/reaper.h"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace p2p {

class FramedConn {
public:
	struct Callbacks {
		// A decoded message. May call send/close/expect_raw.
		std::function<void(Message&)> on_message;
		// Raw bytes following a ChunkData frame, after expect_raw(n); called
		// until n bytes have been delivered. The span is valid only during
		// the call.
		std::function<void(std::span<const std::byte>)> on_raw;
		// Output fell to or below the write low-water mark.
		std::function<void()> on_drained;
		// The connection is over; `reason` is for the log.
		std::function<void(const std::string& reason)> on_close;
		// Connect finished (only for connect()).
		std::function<void()> on_connected;
	};

	// Takes ownership of `fd` (an accepted socket).
	FramedConn(event_base* base, evutil_socket_t fd, Callbacks cb);
	// Starts a non-blocking connect; on_connected or on_close follows.
	FramedConn(event_base* base, const sockaddr* addr, int addrlen, Callbacks cb);
	FramedConn(const FramedConn&) = delete;
	FramedConn& operator=(const FramedConn&) = delete;
	~FramedConn();

	// Closes when no whole frame arrives for this long (0: never).
	void set_idle_timeout(double seconds);
	// Closes when a frame, once begun, is not complete within this long
	// (0: never). Unlike the idle timeout, a client trickling one byte at a
	// time cannot hold it off.
	void set_frame_deadline(double seconds);
	// Closed cluster: every frame sent and received carries a MAC made with
	// `key` (frame-auth.h); a frame without a valid one closes the
	// connection with Error BadAuth, as does a whole frame whose MAC has not
	// followed within kMacGrace while we read. Bytes given to send_raw are
	// not covered.
	void set_secret(const SecretKey& key);
	// on_drained fires when output is at or below this many bytes.
	void set_write_low_water(std::size_t bytes);

	void send(const Message& msg);
	// Appends bytes as they are (for a prepared frame).
	void send_raw(const void* data, std::size_t len);
	// Sends an Error frame, stops reading, and closes once it is written.
	void fail(ErrorCode code, const std::string& text);
	// Closes now, dropping unsent output. Idempotent.
	void close(const std::string& reason);
	// After a ChunkData frame: the next `n` bytes go to on_raw.
	void expect_raw(std::size_t n) { raw_left_ = n; }

	bool closed() const { return closed_; }
	// Why the codec or the MAC refused the last frame (None if it did not).
	ErrorCode refused_with() const { return refused_with_; }
	std::size_t output_length() const;
	bufferevent* bev() const { return bev_.get(); }
	const std::string& peer_name() const { return peer_name_; }
	std::uint64_t frames_in() const { return frames_in_; }

private:
	static void read_cb(bufferevent*, void* self);
	static void write_cb(bufferevent*, void* self);
	static void event_cb(bufferevent*, short what, void* self);
	static void watch_timer_cb(evutil_socket_t, short, void* self);
	void on_watch_timer();
	void watch(bool frame_completed);
	void arm_watch(double now);
	void on_read();
	void read_frames();
	FrameStep step(evbuffer* in);
	void on_write();
	void on_event(short what);
	void setup();
	bool deliver_raw(evbuffer* in);
	void refuse(ErrorCode code, const char* why);

	Callbacks cb_;
	std::string peer_name_;
	std::string fail_reason_;
	std::optional<FrameAuth> auth_;
	bool initiator_ = false;
	ErrorCode refused_with_ = ErrorCode::None;
	std::vector<std::byte> scratch_;
	std::size_t raw_left_ = 0;
	std::uint64_t frames_in_ = 0;
	bool closed_ = false;
	bool closing_after_flush_ = false;
	double idle_timeout_ = 0;
	// The frame deadline and the MAC grace, on one timer.
	FrameWatch watch_;
	bool awaiting_mac_ = false; // the last step's word
	double armed_for_ = FrameWatch::kNever;
	EventPtr watch_timer_;
	std::optional<Deferred> connect_failed_;
	BufferEventPtr bev_; // last: freed first
};

} // namespace p2p
