// One indexd connection: framing, MACs, the lookup fast path, output
// back-pressure and the one close path. The requests other than lookups are
// in index-requests.cc.
#include "index-session.h"

#include "index-server.h"
#include "wire-fast.h"

#include "p2p/address.h"
#include "p2p/clock.h"
#include "p2p/log.h"
#include "p2p/names.h"

#include <event2/util.h>

#include <cerrno>

#include <algorithm>
#include <array>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace indexd {
namespace {

// Stop reading from a client once this much of its replies is unsent, and
// start again when it falls to a quarter: a client that pipelines without
// reading must not grow our memory.
constexpr std::size_t kMaxOutput = 4u << 20;
// Scratch buffers above these sizes are given back after use, so a rare
// big reply (a list page) does not stay allocated for every connection.
constexpr std::size_t kKeepScratch = 64u << 10;
constexpr std::size_t kKeepHolders = 256;
// Input: start small (most connections send short frames), grow up to one
// largest frame, and shrink back once a big frame has been handled.
constexpr std::size_t kInitialInput = 4096;
constexpr std::size_t kKeepInput = 16u << 10;
constexpr std::size_t kMaxInput = p2p::kHeaderSize + p2p::kMaxPayload;

} // namespace

IndexSession::IndexSession(IndexServer& server, event_base* base, evutil_socket_t fd, const sockaddr* addr,
                           std::uint64_t id, const p2p::SecretKey* secret)
	: server_(server), id_(id), name_(p2p::format_endpoint(addr)), host_(p2p::ip_bytes(addr)),
	  mac_size_(secret ? p2p::kMacSize : 0), max_input_(kMaxInput + mac_size_), watch_(server.ttl()),
	  last_frame_(server.now()), self_(std::make_shared<IndexSession*>(this)), fd_(fd),
	  outq_(evbuffer_new()),
	  read_ev_(event_new(base, fd, EV_READ | EV_PERSIST, read_cb, this)),
	  write_ev_(event_new(base, fd, EV_WRITE | EV_PERSIST, write_cb, this)),
	  drain_(base, [this] { drain(); }), mac_timer_(base, [this] { on_mac_timer(); })
{
	if (secret)
		auth_.emplace(*secret, false); // indexd never opens a connection
	evutil_make_socket_nonblocking(fd);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!outq_ || !read_ev_ || !write_ev_ || event_add(read_ev_.get(), nullptr) != 0)
		closed_ = true; // the server drops a session that failed to start
}

IndexSession::~IndexSession()
{
	// Events first (event_free deletes them), then the socket they watch.
	mac_timer_.stop();
	drain_.cancel();
	write_ev_.reset();
	read_ev_.reset();
	evutil_closesocket(fd_);
}

void IndexSession::read_cb(evutil_socket_t, short, void* self) { static_cast<IndexSession*>(self)->on_readable(); }
void IndexSession::write_cb(evutil_socket_t, short what, void* self)
{
	static_cast<IndexSession*>(self)->on_writable(what);
}

void IndexSession::on_readable()
{
	if (closed_ || closing_ || paused_ || slot_paused_)
		return;
	if (in_len_ == in_cap_) {
		// Full: grow, but never past one largest frame (the read high-water
		// mark). A full buffer at that size cannot happen, since every whole
		// frame is consumed before the next read.
		if (in_cap_ >= max_input_) {
			refuse(p2p::refusal(p2p::FrameFault::TooLarge));
			flush();
			return;
		}
		std::size_t cap = std::min(std::max(in_cap_ * 2, kInitialInput), max_input_);
		auto bigger = std::make_unique_for_overwrite<std::byte[]>(cap);
		if (in_len_ > 0)
			std::memcpy(bigger.get(), in_.get(), in_len_);
		in_ = std::move(bigger);
		in_cap_ = cap;
	}
	// A plain recv: evbuffer_read would first ask FIONREAD, one more
	// system call per request when clients send one at a time.
	ssize_t n = ::recv(fd_, in_.get() + in_len_, in_cap_ - in_len_, 0);
	if (n == 0) {
		close("closed by the other side");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			close(std::string("socket error: ") + std::strerror(errno));
		return;
	}
	in_len_ += static_cast<std::size_t>(n);
	process_input();
}

// With metrics on, the batch's time from its bytes to its replies counts
// once per request in it.
void IndexSession::process_input()
{
	if (!server_.timing_requests()) {
		process_batch();
		return;
	}
	double start = p2p::precise_now();
	std::uint64_t before = handled_;
	process_batch();
	if (handled_ > before)
		server_.requests_took(p2p::precise_now() - start, handled_ - before);
}

void IndexSession::process_batch()
{
	bool any = false;
	std::size_t used = 0;
	while (!closed_ && !closing_ && !paused_ && used < in_len_ && slots_.size() < kMaxSlots) {
		std::size_t n = handle_frames(in_.get() + used, in_len_ - used);
		if (n == 0)
			break; // an unfinished frame, or the session failed
		used += n;
		any = true;
		if (out_.size() >= kMaxOutput)
			flush(); // may pause reading, which ends the loop
	}
	if (closed_ || closing_) {
		flush();
		return;
	}
	if (slots_.size() >= kMaxSlots && !slot_paused_) {
		slot_paused_ = true; // back-pressure: read on once the store answers
		event_del(read_ev_.get());
	}
	if (used > 0) {
		std::memmove(in_.get(), in_.get() + used, in_len_ - used);
		in_len_ -= used;
	}
	if (in_len_ == 0 && in_cap_ > kKeepInput) {
		in_.reset(); // a big frame is done with: give its buffer back
		in_cap_ = 0;
	}
	double now = server_.now();
	if (any) {
		last_frame_ = now;
		if (registered_)
			server_.store().touch(peer_, now);
	}
	watch_.update(in_len_ > 0, awaiting_mac_, any, now);
	if (auth_)
		watch_mac(now);
	flush();
}

std::size_t IndexSession::handle_frames(const std::byte* p, std::size_t n)
{
	std::size_t pos = 0;
	p2p::FrameAuth* auth = auth_ ? &*auth_ : nullptr;
	awaiting_mac_ = false;
	prefetch_lookups(p, n);
	// Replies can be far larger than requests (a lookup of a name with
	// thousands of holders): stop at kMaxOutput and let on_read flush, so a
	// megabyte of requests cannot turn into gigabytes of replies in memory.
	while (pos < n && !closing_ && !closed_ && out_.size() < kMaxOutput && slots_.size() < kMaxSlots) {
		p2p::FrameStep s = p2p::frame_step({p + pos, n - pos}, auth);
		if (s.is_bad()) {
			refuse(s.bad);
			return 0;
		}
		if (s.need_more()) {
			awaiting_mac_ = s.awaiting_mac;
			break;
		}
		handle_frame(s.header.type, s.frame);
		handled_++;
		pos += s.used;
	}
	return closing_ || closed_ ? 0 : pos;
}

// Tells the store which names the LOOKUPs in these bytes ask for, before
// any is answered. Headers are only peeked at: a wrong guess costs a
// useless prefetch, and handle_frames checks every frame as before.
void IndexSession::prefetch_lookups(const std::byte* p, std::size_t n)
{
	std::array<std::string_view, 32> names;
	std::size_t count = 0;
	std::size_t mac = auth_ ? p2p::kMacSize : 0;
	for (std::size_t pos = 0; count < names.size() && n - pos >= p2p::kHeaderSize;) {
		p2p::FrameHeader h;
		if (p2p::check_header({p + pos, p2p::kHeaderSize}, h).status != p2p::DecodeStatus::Ok)
			break;
		std::size_t end = pos + p2p::kHeaderSize + h.length + mac;
		if (end > n)
			break;
		if (h.type == p2p::MsgType::Lookup &&
		    lookup_name(p + pos + p2p::kHeaderSize, h.length, names[count]))
			count++;
		pos = end;
	}
	if (count > 1)
		server_.store().prefetch({names.data(), count});
}

// A frame the step accepted (MAC verified): LOOKUP and PING are answered
// here without building a Message.
void IndexSession::handle_frame(p2p::MsgType type, std::span<const std::byte> frame)
{
	std::span<const std::byte> payload = frame.subspan(p2p::kHeaderSize);
	if (identified_ && type != p2p::MsgType::Register) {
		bad_signature("IDENTIFY must be followed by REGISTER");
		return;
	}
	if (type == p2p::MsgType::Lookup) {
		handle_lookup(payload.data(), payload.size());
		return;
	}
	if (type == p2p::MsgType::Ping && payload.size() == 8) {
		server_.counters().pings++;
		if (!slots_.empty()) { // behind replies still waiting for the store
			std::vector<std::byte> pong;
			append_pong(pong, frame.data());
			fill(open_slot(), std::move(pong));
			return;
		}
		std::size_t start = out_.size();
		append_pong(out_, frame.data());
		seal(start);
		return;
	}
	p2p::Decoded d = p2p::decode_frame(type, frame);
	if (d.status != p2p::DecodeStatus::Ok) {
		bad_frame(d.error, d.why);
		return;
	}
	handle_message(d.message);
}

void IndexSession::handle_lookup(const std::byte* payload, std::size_t plen)
{
	std::string_view name;
	if (!lookup_name(payload, plen, name)) {
		bad_frame(p2p::ErrorCode::Malformed, "lookup payload does not match its name length");
		return;
	}
	if (const char* why = p2p::name_problem(name)) {
		bad_frame(p2p::ErrorCode::BadName, why);
		return;
	}
	server_.counters().lookups++;
	if (server_.store().async()) {
		lookup_async(name, false);
		return;
	}
	server_.store().lookup(name, holders_, p2p::kMaxLookupPeers);
	if (holders_.empty())
		server_.counters().lookup_misses++;
	std::size_t start = out_.size();
	append_lookup_reply(out_, name, holders_);
	seal(start);
	if (holders_.capacity() > kKeepHolders)
		std::vector<p2p::PeerHolding>().swap(holders_);
}

void IndexSession::reply(const p2p::Message& msg)
{
	if (!slots_.empty()) {
		fill(open_slot(), msg);
		return;
	}
	std::size_t start = out_.size();
	p2p::encode(msg, out_);
	seal(start);
}

void IndexSession::seal(std::size_t start)
{
	if (auth_)
		auth_->append_mac(out_, start);
}


void IndexSession::watch_mac(double now)
{
	mac_timer_.follow(watch_, now);
}

void IndexSession::on_mac_timer()
{
	if (closed_ || closing_)
		return;
	double now = server_.now();
	if (auto v = frame_verdict(now))
		refuse_late(*v);
	else
		watch_mac(now);
}

std::optional<p2p::Refusal> IndexSession::frame_verdict(double now)
{
	if (paused_)
		watch_.hold(now);
	return watch_.verdict(now);
}

void IndexSession::refuse_late(const p2p::Refusal& r)
{
	if (r.code == p2p::ErrorCode::BadAuth) {
		bad_auth(r.why);
		return;
	}
	server_.counters().timeouts++;
	log_info("%s: %s (TTL %g s); closing", name_.c_str(), r.why, server_.ttl());
	fail(r.code, r.why);
}

void IndexSession::refuse(const p2p::Refusal& r)
{
	if (r.code == p2p::ErrorCode::BadAuth)
		bad_auth(r.why);
	else
		bad_frame(r.code, r.why);
}

void IndexSession::bad_frame(p2p::ErrorCode code, const char* why)
{
	server_.counters().bad_frames++;
	log_info("%s: bad frame (%s): %s; closing", name_.c_str(), p2p::error_code_name(code), why);
	fail(code, why);
}

void IndexSession::bad_auth(const char* why)
{
	server_.counters().bad_macs++;
	log_info("%s: %s; closing", name_.c_str(), why);
	fail(p2p::ErrorCode::BadAuth, why);
}

void IndexSession::bad_signature(const char* why)
{
	server_.counters().bad_signatures++;
	log_info("%s: %s; closing", name_.c_str(), why);
	fail(p2p::ErrorCode::BadSignature, why);
}

void IndexSession::flush()
{
	if (closed_ || out_.empty())
		return;
	// When nothing is queued, write the batch to the socket at once, as
	// redis does: no write event to arm and disarm per batch. What the
	// kernel does not take waits in outq_ for the write event.
	const std::byte* p = out_.data();
	std::size_t n = out_.size();
	if (evbuffer_get_length(outq_.get()) == 0) {
		ssize_t w = ::send(fd_, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p += w;
			n -= static_cast<std::size_t>(w);
		} else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			out_.clear();
			close(std::string("socket error: ") + std::strerror(errno));
			return;
		}
	}
	if (n > 0) {
		evbuffer_add(outq_.get(), p, n);
		arm_write();
	}
	out_.clear();
	if (out_.capacity() > kKeepScratch)
		std::vector<std::byte>().swap(out_);
	if (!paused_ && !closing_ && evbuffer_get_length(outq_.get()) > kMaxOutput) {
		paused_ = true;
		server_.counters().output_stalls++;
		log_debug("%s: replies not read; pausing input", name_.c_str());
		event_del(read_ev_.get());
	}
}

void IndexSession::arm_write()
{
	// Saying goodbye gets 2 s: a client that does not read must not keep
	// a closing connection alive.
	timeval tv = p2p::to_timeval(2.0);
	event_add(write_ev_.get(), closing_ ? &tv : nullptr);
}

void IndexSession::on_writable(short what)
{
	if (closed_)
		return;
	if (what & EV_TIMEOUT) {
		close(closing_ ? fail_reason_ : "write timeout");
		return;
	}
	if (evbuffer_write(outq_.get(), fd_) < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		close(std::string("socket error: ") + std::strerror(errno));
		return;
	}
	std::size_t left = evbuffer_get_length(outq_.get());
	if (left == 0) {
		event_del(write_ev_.get());
		if (closing_) {
			close(fail_reason_);
			return;
		}
	}
	if (paused_ && left <= kMaxOutput / 4) {
		paused_ = false;
		event_add(read_ev_.get(), nullptr);
		process_input(); // frames may already be waiting
	}
}

void IndexSession::fail(p2p::ErrorCode code, const std::string& text)
{
	if (closed_ || closing_)
		return;
	reply(p2p::Error{code, 0, text});
	closing_ = true;
	fail_reason_ = text;
	paused_ = false;
	event_del(read_ev_.get());
	flush();
	if (closed_ || !slots_.empty()) // the replies before the error go first
		return;
	if (evbuffer_get_length(outq_.get()) == 0)
		close(text);
	else
		arm_write(); // now with the 2 s limit
}

void IndexSession::goodbye()
{
	if (closed_ || closing_)
		return;
	reply(p2p::Error{p2p::ErrorCode::Shutdown, 0, "the index is shutting down"});
	closing_ = true;
	flush();
}

void IndexSession::expired(const std::string& text)
{
	registered_ = false;
	fail(p2p::ErrorCode::Timeout, text);
}

void IndexSession::replaced(const std::string& by)
{
	registered_ = false;
	fail(p2p::ErrorCode::AddressInUse, "replaced by a newer connection with the same key (" + by + ")");
}

void IndexSession::close(const std::string& reason)
{
	if (closed_)
		return;
	closed_ = true;
	event_del(read_ev_.get());
	event_del(write_ev_.get());
	mac_timer_.stop();
	server_.session_closed(*this, reason);
}

} // namespace indexd
