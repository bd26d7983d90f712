#include "p2p/framed-conn.h"

#include "p2p/address.h"
#include "p2p/log.h"

#include <event2/util.h>

#include <algorithm>
#include <cstring>

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace p2p {

FramedConn::FramedConn(event_base* base, evutil_socket_t fd, Callbacks cb)
	: cb_(std::move(cb)),
	  bev_(bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))
{
	sockaddr_storage ss{};
	socklen_t len = sizeof ss;
	if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
		peer_name_ = format_endpoint(reinterpret_cast<sockaddr*>(&ss));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setup();
}

FramedConn::FramedConn(event_base* base, const sockaddr* addr, int addrlen, Callbacks cb)
	: cb_(std::move(cb)),
	  initiator_(true),
	  bev_(bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))
{
	peer_name_ = format_endpoint(addr);
	setup();
	if (bev_ && bufferevent_socket_connect(bev_.get(), addr, addrlen) != 0) {
		// Reported from the loop, so the caller's constructor call never
		// sees its own on_close run.
		connect_failed_.emplace(base, [this] { close("connect failed"); });
		connect_failed_->schedule();
	}
}

FramedConn::~FramedConn()
{
	if (bev_)
		bufferevent_setcb(bev_.get(), nullptr, nullptr, nullptr, nullptr);
}

void FramedConn::setup()
{
	if (!bev_) {
		closed_ = true;
		return;
	}
	bufferevent_setcb(bev_.get(), read_cb, write_cb, event_cb, this);
	// Never buffer more than one largest frame (or chunk piece) unread.
	bufferevent_setwatermark(bev_.get(), EV_READ, 0, kHeaderSize + kMaxPayload + kMacSize);
	bufferevent_enable(bev_.get(), EV_READ | EV_WRITE);
}

void FramedConn::set_idle_timeout(double seconds)
{
	idle_timeout_ = seconds;
	if (!bev_)
		return;
	if (seconds > 0) {
		timeval tv = to_timeval(seconds);
		bufferevent_set_timeouts(bev_.get(), &tv, nullptr);
	} else {
		bufferevent_set_timeouts(bev_.get(), nullptr, nullptr);
	}
}

void FramedConn::set_frame_deadline(double seconds)
{
	frame_deadline_ = seconds;
	if (!bev_)
		return;
	if (!frame_timer_)
		frame_timer_.reset(evtimer_new(bufferevent_get_base(bev_.get()), frame_timer_cb, this));
	if (seconds <= 0)
		evtimer_del(frame_timer_.get());
}

// Starts the frame clock when a frame is begun, and restarts it when one
// completes with the next already begun.
void FramedConn::watch_partial_frame(bool frame_completed)
{
	if (!frame_timer_ || frame_deadline_ <= 0 || closed_)
		return;
	bool partial = evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0 || raw_left_ > 0;
	if (!partial) {
		evtimer_del(frame_timer_.get());
	} else if (frame_completed || !evtimer_pending(frame_timer_.get(), nullptr)) {
		timeval tv = to_timeval(frame_deadline_);
		evtimer_add(frame_timer_.get(), &tv);
	}
}

void FramedConn::frame_timer_cb(evutil_socket_t, short, void* self)
{
	auto* conn = static_cast<FramedConn*>(self);
	log_info("%s: frame not completed within %.1f s", conn->peer_name_.c_str(), conn->frame_deadline_);
	conn->refuse(ErrorCode::Timeout, "frame not completed in time");
}

void FramedConn::set_secret(const SecretKey& key)
{
	auth_.emplace(key, initiator_);
	if (bev_ && !mac_timer_)
		mac_timer_.reset(evtimer_new(bufferevent_get_base(bev_.get()), mac_timer_cb, this));
}

// Unread input starts at a frame boundary unless raw bytes are due.
bool FramedConn::frame_waits_for_mac()
{
	evbuffer* in = bufferevent_get_input(bev_.get());
	std::size_t avail = evbuffer_get_length(in);
	if (raw_left_ > 0 || avail < kHeaderSize)
		return false;
	auto* head = reinterpret_cast<const std::byte*>(evbuffer_pullup(in, kHeaderSize));
	FrameHeader h{};
	if (check_header({head, kHeaderSize}, h).status != DecodeStatus::Ok)
		return false;
	std::size_t frame = kHeaderSize + h.length;
	return avail >= frame && avail < frame + kMacSize;
}

void FramedConn::watch_mac()
{
	if (!mac_timer_ || closed_)
		return;
	if (!frame_waits_for_mac()) {
		evtimer_del(mac_timer_.get());
	} else if (!evtimer_pending(mac_timer_.get(), nullptr)) {
		timeval tv = to_timeval(kMacGrace);
		evtimer_add(mac_timer_.get(), &tv);
	}
}

void FramedConn::mac_timer_cb(evutil_socket_t, short, void* self)
{
	auto* conn = static_cast<FramedConn*>(self);
	if (conn->closed_ || !conn->frame_waits_for_mac())
		return;
	// While we do not read, a MAC still in the socket is our own doing.
	if (!(bufferevent_get_enabled(conn->bev_.get()) & EV_READ)) {
		timeval tv = to_timeval(kMacGrace);
		evtimer_add(conn->mac_timer_.get(), &tv);
		return;
	}
	log_info("%s: a frame without its MAC (no secret?)", conn->peer_name_.c_str());
	conn->refuse(ErrorCode::BadAuth, "frame MAC missing (is the secret the same?)");
}

void FramedConn::set_write_low_water(std::size_t bytes)
{
	if (bev_)
		bufferevent_setwatermark(bev_.get(), EV_WRITE, bytes, 0);
}

std::size_t FramedConn::output_length() const
{
	return bev_ ? evbuffer_get_length(bufferevent_get_output(bev_.get())) : 0;
}

void FramedConn::send(const Message& msg)
{
	if (closed_ || closing_after_flush_)
		return;
	scratch_.clear();
	encode(msg, scratch_);
	if (auth_)
		auth_->append_mac(scratch_);
	bufferevent_write(bev_.get(), scratch_.data(), scratch_.size());
}

void FramedConn::send_raw(const void* data, std::size_t len)
{
	if (!closed_ && !closing_after_flush_)
		bufferevent_write(bev_.get(), data, len);
}

void FramedConn::fail(ErrorCode code, const std::string& text)
{
	if (closed_ || closing_after_flush_)
		return;
	send(Error{code, 0, text});
	closing_after_flush_ = true;
	bufferevent_disable(bev_.get(), EV_READ);
	// A peer that never reads must not keep us waiting to say goodbye.
	timeval tv = to_timeval(2.0);
	bufferevent_set_timeouts(bev_.get(), nullptr, &tv);
	bufferevent_setwatermark(bev_.get(), EV_WRITE, 0, 0);
	if (output_length() == 0)
		close(text);
	else
		fail_reason_ = text;
}

void FramedConn::refuse(ErrorCode code, const char* why)
{
	refused_with_ = code;
	fail(code, why);
}

void FramedConn::close(const std::string& reason)
{
	if (closed_)
		return;
	closed_ = true;
	if (frame_timer_)
		evtimer_del(frame_timer_.get());
	if (mac_timer_)
		evtimer_del(mac_timer_.get());
	if (bev_)
		bufferevent_disable(bev_.get(), EV_READ | EV_WRITE);
	if (cb_.on_close)
		cb_.on_close(reason);
}

void FramedConn::read_cb(bufferevent*, void* self) { static_cast<FramedConn*>(self)->on_read(); }
void FramedConn::write_cb(bufferevent*, void* self) { static_cast<FramedConn*>(self)->on_write(); }
void FramedConn::event_cb(bufferevent*, short what, void* self) { static_cast<FramedConn*>(self)->on_event(what); }

bool FramedConn::deliver_raw(evbuffer* in)
{
	while (raw_left_ > 0 && !closed_) {
		std::size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			return false;
		evbuffer_iovec vec;
		if (evbuffer_peek(in, -1, nullptr, &vec, 1) < 1)
			return false;
		std::size_t n = std::min({vec.iov_len, raw_left_});
		raw_left_ -= n;
		if (cb_.on_raw)
			cb_.on_raw({static_cast<const std::byte*>(vec.iov_base), n});
		evbuffer_drain(in, n);
	}
	return !closed_;
}

void FramedConn::on_read()
{
	std::uint64_t frames_before = frames_in_;
	read_frames();
	watch_partial_frame(frames_in_ != frames_before);
	watch_mac();
}

void FramedConn::read_frames()
{
	evbuffer* in = bufferevent_get_input(bev_.get());
	while (!closed_ && !closing_after_flush_) {
		if (raw_left_ > 0 && !deliver_raw(in))
			return;
		std::size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			return;
		// Peek the header first so a whole frame is made contiguous only
		// once we know its length.
		std::size_t want = std::min(avail, kHeaderSize);
		auto* head = reinterpret_cast<const std::byte*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(want)));
		FrameHeader h{};
		Decoded d = check_header({head, want}, h);
		if (d.status == DecodeStatus::Bad) {
			log_info("%s: bad frame: %s", peer_name_.c_str(), d.why);
			refuse(d.error, d.why);
			return;
		}
		std::size_t frame = kHeaderSize + h.length;
		std::size_t whole = frame + (auth_ ? kMacSize : 0);
		if (d.status == DecodeStatus::NeedMore || avail < whole)
			return;
		auto* bytes = reinterpret_cast<const std::byte*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(whole)));
		// Authenticate before decoding, so unauthenticated bytes never
		// reach the message parsers.
		if (auth_ && !auth_->verify({bytes, frame}, {bytes + frame, kMacSize})) {
			log_info("%s: %s frame with a missing or wrong MAC", peer_name_.c_str(), msg_type_name(h.type));
			refuse(ErrorCode::BadAuth, "frame MAC missing or wrong (is the secret the same?)");
			return;
		}
		d = decode({bytes, frame});
		if (d.status != DecodeStatus::Ok) {
			log_info("%s: bad %s frame: %s", peer_name_.c_str(), msg_type_name(h.type), d.why);
			refuse(d.error, d.why);
			return;
		}
		evbuffer_drain(in, whole);
		frames_in_++;
		if (cb_.on_message)
			cb_.on_message(d.message);
	}
}

void FramedConn::on_write()
{
	if (closing_after_flush_ && output_length() == 0) {
		close(fail_reason_);
		return;
	}
	if (!closed_ && cb_.on_drained)
		cb_.on_drained();
}

void FramedConn::on_event(short what)
{
	if (what & BEV_EVENT_CONNECTED) {
		if (cb_.on_connected)
			cb_.on_connected();
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		close(closing_after_flush_ ? fail_reason_ : "idle timeout");
		return;
	}
	if (what & BEV_EVENT_EOF) {
		close("connection closed by peer");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		close(std::string("socket error: ") + evutil_socket_error_to_string(err));
		return;
	}
}

} // namespace p2p
