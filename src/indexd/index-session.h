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
#include "p2p/frame-auth.h"
#include "p2p/frame-step.h"
#include "p2p/identity.h"
#include "p2p/mac-timer.h"
#include "p2p/reaper.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace indexd {

class IndexServer;

// Requests of one connection waiting for an asynchronous store before its
// reading pauses.
inline constexpr std::size_t kMaxSlots = 256;

class IndexSession {
public:
	// `secret`: the closed cluster's key, or null (frames without MACs).
	IndexSession(IndexServer& server, event_base* base, evutil_socket_t fd, const sockaddr* addr, std::uint64_t id,
	             const p2p::SecretKey* secret);
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
	// A new connection signed with our key took our (host, port) over; the
	// store already dropped our peer: forget it, then fail.
	void replaced(const std::string& by);

	// The key our registration is bound to, or null when unsigned.
	const p2p::PublicKey* bound_key() const { return registered_ && bound_ ? &key_ : nullptr; }
	// The frame deadline (the TTL) or the MAC grace has passed at `now`:
	// what to refuse the connection with. While reading is paused both
	// waits are held (the rest is in the socket by our doing).
	std::optional<p2p::Refusal> frame_verdict(double now);
	// Sends the refusal, counted as a timeout or a bad MAC, and closes.
	void refuse_late(const p2p::Refusal& r);

	bool registered() const { return registered_; }
	PeerId peer() const { return peer_; }
	bool closed() const { return closed_; }
	const std::string& name() const { return name_; }
	std::uint64_t id() const { return id_; }
	// Monotonic seconds: when the last whole frame arrived.
	double last_frame() const { return last_frame_; }

private:
	static void read_cb(evutil_socket_t, short, void* self);
	static void write_cb(evutil_socket_t, short what, void* self);
	void on_readable();
	void on_writable(short what);
	void process_input();
	void process_batch();
	void arm_write();

	// Handles the whole frames at the start of [p, p+n); returns the bytes used.
	std::size_t handle_frames(const std::byte* p, std::size_t n);
	void prefetch_lookups(const std::byte* p, std::size_t n);
	void handle_frame(p2p::MsgType type, std::span<const std::byte> frame);
	// Closed cluster: a timer for the MAC grace, armed only while a whole
	// frame waits for its MAC (the TTL is polled by the server's tick).
	void watch_mac(double now);
	void on_mac_timer();
	void handle_lookup(const std::byte* payload, std::size_t len);
	void handle_message(p2p::Message& msg);
	void on_register(p2p::Register& m);
	void on_update(p2p::Update& m);
	void on_update_partial(p2p::UpdatePartial& m);
	bool refuse_unregistered();

	// An asynchronous store (Redis): replies wait in slots, in the order of
	// their requests, and go out once every slot before them is filled
	// (index-async-requests.cc). Without one, slots_ stays empty and
	// replies go straight to out_.
	struct Slot {
		bool ready = false;
		std::vector<std::byte> frame; // unsealed: sealed in output order
	};
	using Weak = std::weak_ptr<IndexSession*>;
	// Error unavailable or busy, at once, when the store cannot take a request.
	bool refuse_async();
	// After replies went out: read on, or finish closing.
	void slots_drained();
	// The batch that fill() began, out at the end of the reactor's round.
	void drain();
	void stats_async();
	Slot* open_slot();
	void fill(Slot* slot, const p2p::Message& msg);
	void fill(Slot* slot, std::vector<std::byte> frame);
	void lookup_async(std::string_view name, bool partial);
	void list_async(const p2p::List& m);
	void register_async(p2p::Register& m, bool signed_reg);
	void registered_async(Slot* slot, PeerId id, std::size_t files, bool signed_reg, p2p::ErrorCode e,
	                      std::optional<PeerId> replaced);
	void update_async(p2p::Update& m);
	void update_partial_async(p2p::UpdatePartial& m);
	static std::function<void(IndexSession&, p2p::ErrorCode)> acked_as(Slot* slot, p2p::MsgType type);
	// Runs `fn` on this session when it is still open, else drops it.
	template <typename Fn>
	static auto on_live(const Weak& weak, Fn fn)
	{
		return [weak, fn = std::move(fn)](auto&&... args) mutable {
			auto self = weak.lock();
			if (self && *self && !(*self)->closed_)
				fn(**self, args...);
		};
	}
	void on_unregister();
	void on_hello();
	void on_identify(const p2p::Identify& m);
	void reply(const p2p::Message& msg);
	// Closed cluster: appends the MAC of the frame written at out_[start..].
	void seal(std::size_t start);
	void refuse(const p2p::Refusal& r);
	void bad_frame(p2p::ErrorCode code, const char* why);
	void bad_auth(const char* why);
	void bad_signature(const char* why);
	void flush();

	IndexServer& server_;
	std::uint64_t id_;
	std::string name_;   // "[addr]:port" of the connection, for logs
	p2p::IpBytes host_{}; // the source address: a peer's host is never taken from a message
	bool registered_ = false;
	PeerId peer_ = 0;
	std::uint16_t port_ = 0; // announced with REGISTER
	// Peer identity: the nonce of the last CHALLENGE (good for one
	// IDENTIFY), an IDENTIFY waiting for its REGISTER, the key the
	// registration is bound to.
	bool challenged_ = false;
	bool identified_ = false;
	bool bound_ = false;
	p2p::Nonce nonce_{};
	p2p::Identify pending_{};
	p2p::PublicKey key_{};
	// Closed cluster: MACs checked and made; unset without a secret.
	std::optional<p2p::FrameAuth> auth_;
	std::size_t mac_size_ = 0;  // kMacSize with a secret, else 0
	std::size_t max_input_ = 0; // one largest frame and its MAC
	bool closed_ = false;
	bool closing_ = false; // fail() sent its Error; waiting for it to drain
	bool paused_ = false;  // reading stopped until the client reads its replies
	std::string fail_reason_;
	p2p::FrameWatch watch_;     // the TTL for a begun frame, and the MAC grace
	bool awaiting_mac_ = false; // the last step's word
	double last_frame_ = 0;
	std::uint64_t handled_ = 0; // frames handled, for the latency histogram
	std::vector<std::byte> out_;            // replies of the current batch
	std::vector<p2p::PeerHolding> holders_; // reused by every lookup
	std::deque<Slot> slots_;                // replies waiting for the store (references stay put)
	bool slot_paused_ = false;              // reading stopped: kMaxSlots replies waiting
	std::shared_ptr<IndexSession*> self_;   // callbacks hold it weakly
	std::unique_ptr<std::byte[]> in_;       // unread input, at most one largest frame
	std::size_t in_cap_ = 0, in_len_ = 0;
	evutil_socket_t fd_;
	p2p::EvBufferPtr outq_; // replies the kernel has not taken yet
	// Last, so they are freed first (the destructor also resets them
	// before closing fd_).
	p2p::EventPtr read_ev_;
	p2p::EventPtr write_ev_;
	p2p::Deferred drain_; // scheduled by fill(): runs drain()
	p2p::MacTimer mac_timer_;
};

} // namespace indexd
