#include "p2p/framed-conn.h"

#include "p2p/address.h"
#include "p2p/clock.h"
#include "p2p/log.h"

#include <event2/util.h>

#include <algorithm>
#include <cstring>
#include <ctime>

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
	watch_.set_frame_deadline(seconds);
	if (bev_)
		arm_watch(coarse_now());
}

void FramedConn::set_secret(const SecretKey& key) { auth_.emplace(key, initiator_); }

// After a read: what the steps left behind starts, keeps or stops the
// frame clock and the MAC grace.
void FramedConn::watch(bool frame_completed)
{
	if (closed_ || closing_after_flush_)
		return;
	double now = coarse_now();
	bool pending = evbuffer_get_length(bufferevent_get_input(bev_.get())) > 0 || raw_left_ > 0;
	watch_.update(pending, awaiting_mac_, frame_completed, now);
	arm_watch(now);
}

void FramedConn::arm_watch(double now)
{
	double due = watch_.due();
	if (due == armed_for_)
		return;
	armed_for_ = due;
	if (due == FrameWatch::kNever) {
		if (watch_timer_)
			evtimer_del(watch_timer_.get());
		return;
	}
	if (!watch_timer_)
		watch_timer_.reset(evtimer_new(bufferevent_get_base(bev_.get()), watch_timer_cb, this));
	timeval tv = to_timeval(std::max(due - now, 0.0));
	evtimer_add(watch_timer_.get(), &tv);
}

void FramedConn::watch_timer_cb(evutil_socket_t, short, void* self) { static_cast<FramedConn*>(self)->on_watch_timer(); }

void FramedConn::on_watch_timer()
{
	armed_for_ = FrameWatch::kNever;
	if (closed_ || closing_after_flush_)
		return;
	double now = coarse_now();
	// While we do not read, what is still in the socket is our own doing.
	if (!(bufferevent_get_enabled(bev_.get()) & EV_READ))
		watch_.hold(now);
	if (auto verdict = watch_.verdict(now)) {
		log_info("%s: %s", peer_name_.c_str(), verdict->why);
		refuse(verdict->code, verdict->why);
		return;
	}
	arm_watch(now);
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
	if (watch_timer_)
		evtimer_del(watch_timer_.get());
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
	watch(frames_in_ != frames_before);
}

// Steps over the unread input, making contiguous only what the step needs
// next: the header, then the frame, then its MAC.
FrameStep FramedConn::step(evbuffer* in)
{
	std::size_t avail = evbuffer_get_length(in), seen = std::min(avail, kHeaderSize);
	for (;;) {
		auto* p = reinterpret_cast<const std::byte*>(evbuffer_pullup(in, static_cast<ev_ssize_t>(seen)));
		FrameStep s = frame_step({p, seen}, auth_ ? &*auth_ : nullptr);
		if (!s.need_more() || s.need > avail)
			return s;
		seen = s.need;
	}
}

void FramedConn::read_frames()
{
	evbuffer* in = bufferevent_get_input(bev_.get());
	awaiting_mac_ = false;
	while (!closed_ && !closing_after_flush_) {
		if (raw_left_ > 0 && !deliver_raw(in))
			return;
		if (evbuffer_get_length(in) == 0)
			return;
		FrameStep s = step(in);
		if (s.is_bad()) {
			log_info("%s: bad frame: %s", peer_name_.c_str(), s.bad.why);
			refuse(s.bad.code, s.bad.why);
			return;
		}
		if (s.need_more()) {
			awaiting_mac_ = s.awaiting_mac;
			return;
		}
		Decoded d = decode_frame(s.header.type, s.frame);
		if (d.status != DecodeStatus::Ok) {
			log_info("%s: bad %s frame: %s", peer_name_.c_str(), msg_type_name(s.header.type), d.why);
			refuse(d.error, d.why);
			return;
		}
		evbuffer_drain(in, s.used);
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
