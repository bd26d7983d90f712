// The peer socket; see peer-conn.h.
#include "peer-conn.h"

#include "p2p/clock.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2pget {

namespace {

// Per wakeup, so one fast peer cannot starve the others.
constexpr std::size_t kReadBudget = 4u << 20;

} // namespace

PeerConn::PeerConn(event_base* base, const p2p::SockAddr& addr, PeerBuffers& buffers, Callbacks cb)
	: cb_(std::move(cb)), buffers_(buffers), mac_timer_(base, [this] { on_mac_timer(); })
{
	fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = fd_ < 0 ? errno : 0;
	if (fd_ >= 0) {
		int one = 1;
		::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (::connect(fd_, addr.get(), addr.len) != 0 && errno != EINPROGRESS)
			err = errno;
	}
	read_ev_.reset(event_new(base, fd_, EV_READ | EV_PERSIST, read_cb, this));
	write_ev_.reset(event_new(base, fd_, EV_WRITE, write_cb, this));
	if (err != 0) {
		// Reported from the loop: the write callback sees the error.
		connect_errno_ = err;
		event_active(write_ev_.get(), EV_WRITE, 0);
		return;
	}
	event_add(write_ev_.get(), nullptr);
}

PeerConn::~PeerConn()
{
	mac_timer_.stop();
	read_ev_.reset();
	write_ev_.reset();
	if (fd_ >= 0)
		::close(fd_);
}

void PeerConn::close(const std::string& reason)
{
	if (fd_ < 0)
		return;
	event_del(read_ev_.get());
	event_del(write_ev_.get());
	mac_timer_.stop();
	::close(fd_);
	fd_ = -1;
	if (cb_.on_close)
		cb_.on_close(reason);
}

void PeerConn::set_low_water(int bytes)
{
	if (fd_ >= 0)
		::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
}

void PeerConn::send(const p2p::Message& msg)
{
	if (fd_ < 0)
		return;
	std::size_t start = out_.size();
	p2p::encode(msg, out_);
	if (auth_)
		auth_->append_mac(out_, start);
	if (connected_ && !flush())
		close(std::string("send failed: ") + std::strerror(errno));
}

// Writes what it can; arms the write event for the rest.
bool PeerConn::flush()
{
	while (out_sent_ < out_.size()) {
		ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				event_add(write_ev_.get(), nullptr);
				return true;
			}
			return false;
		}
		out_sent_ += static_cast<std::size_t>(n);
	}
	out_.clear();
	out_sent_ = 0;
	return true;
}

void PeerConn::write_cb(evutil_socket_t, short, void* self) { static_cast<PeerConn*>(self)->on_writable(); }
void PeerConn::read_cb(evutil_socket_t, short, void* self) { static_cast<PeerConn*>(self)->on_readable(); }

void PeerConn::on_writable()
{
	if (fd_ < 0)
		return;
	if (!connected_) {
		int err = connect_errno_;
		socklen_t len = sizeof err;
		if (err == 0 && ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err != 0) {
			close(std::string("connect failed: ") + std::strerror(err));
			return;
		}
		connected_ = true;
		event_add(read_ev_.get(), nullptr);
		if (cb_.on_connected)
			cb_.on_connected();
		if (fd_ < 0)
			return;
	}
	if (!flush())
		close(std::string("send failed: ") + std::strerror(errno));
}

// Hands raw bytes on while some are owed, then frames; `used` is how much
// of `bytes` was consumed. False once the connection closed.
bool PeerConn::deliver(std::span<const std::byte> bytes, std::size_t& used)
{
	used = 0;
	awaiting_mac_ = false;
	while (fd_ >= 0 && used < bytes.size()) {
		if (raw_left_ > 0) {
			std::size_t n = std::min(raw_left_, bytes.size() - used);
			if (!deliver_raw(bytes.subspan(used, n)))
				return false;
			used += n;
			continue;
		}
		p2p::FrameStep s = p2p::frame_step(bytes.subspan(used), auth_ ? &*auth_ : nullptr);
		if (s.is_bad()) {
			refuse(s.bad);
			return false;
		}
		if (s.need_more()) {
			awaiting_mac_ = s.awaiting_mac;
			break;
		}
		p2p::Decoded d = p2p::decode_frame(s.header.type, s.frame);
		if (d.status != p2p::DecodeStatus::Ok) {
			close(std::string("bad frame: ") + d.why);
			return false;
		}
		used += s.used;
		frame_done_ = true;
		if (cb_.on_message)
			cb_.on_message(d.message);
	}
	return fd_ >= 0;
}

bool PeerConn::deliver_raw(std::span<const std::byte> bytes)
{
	raw_left_ -= bytes.size();
	if (cb_.on_raw)
		cb_.on_raw(bytes);
	return fd_ >= 0;
}

void PeerConn::refuse(const p2p::Refusal& r)
{
	if (r.code == p2p::ErrorCode::BadAuth) {
		bad_auth_ = true;
		close(r.why);
	} else {
		close(std::string("bad frame: ") + r.why);
	}
}


// After a read: starts or stops the MAC grace.
void PeerConn::watch_mac()
{
	if (fd_ < 0 || !auth_)
		return;
	double now = p2p::coarse_now();
	watch_.update(!in_.empty() || raw_left_ > 0, awaiting_mac_, frame_done_, now);
	frame_done_ = false;
	mac_timer_.follow(watch_, now);
}

void PeerConn::on_mac_timer()
{
	if (fd_ < 0)
		return;
	if (auto v = watch_.verdict(p2p::coarse_now())) {
		refuse(*v);
		return;
	}
	watch_mac();
}

// socket -> pipe -> file: the kernel copies the bytes once, into the page
// cache, instead of twice through a buffer of ours.
int PeerConn::splice_raw(int sink, std::uint64_t offset)
{
	const SplicePipe& pipe = buffers_.pipe();
	std::size_t want = std::min(raw_left_, pipe.size());
	ssize_t n = ::splice(fd_, nullptr, pipe.write_fd(), nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		close(std::string("recv failed: ") + std::strerror(errno));
		return -1;
	}
	if (n == 0) {
		close("connection closed by peer");
		return -1;
	}
	std::size_t got = static_cast<std::size_t>(n), moved = 0;
	loff_t off = static_cast<loff_t>(offset);
	while (moved < got) {
		ssize_t m = ::splice(pipe.read_fd(), nullptr, sink, &off, got - moved, SPLICE_F_MOVE);
		if (m <= 0)
			break;
		moved += static_cast<std::size_t>(m);
	}
	raw_left_ -= moved;
	if (moved > 0 && cb_.on_raw_in_file)
		cb_.on_raw_in_file(moved);
	if (moved < got)
		drain_pipe(got - moved);
	return fd_ >= 0 ? 1 : -1;
}

// The file refused spliced bytes (disk full...): empty the pipe through
// on_raw, whose own write reports the error. Whatever is left once the
// connection closed must not reach the next user of the pipe either.
void PeerConn::drain_pipe(std::size_t left)
{
	const SplicePipe& pipe = buffers_.pipe();
	std::span<std::byte> buf = buffers_.read_buffer();
	while (left > 0) {
		ssize_t r = ::read(pipe.read_fd(), buf.data(), std::min(left, buf.size()));
		if (r <= 0)
			break;
		left -= static_cast<std::size_t>(r);
		if (fd_ >= 0)
			deliver_raw(buf.first(static_cast<std::size_t>(r)));
	}
}

void PeerConn::on_readable()
{
	std::size_t budget = kReadBudget;
	while (fd_ >= 0 && budget > 0 && read_some(budget) > 0) {
	}
	watch_mac();
}

int PeerConn::read_some(std::size_t& budget)
{
	if (raw_left_ == 0 || !in_.empty())
		return recv_frames(budget);
	std::uint64_t offset = 0;
	int sink = cb_.raw_sink && buffers_.pipe().ok() ? cb_.raw_sink(offset) : -1;
	if (sink < 0)
		return recv_raw(budget);
	std::size_t before = raw_left_;
	int r = splice_raw(sink, offset);
	budget -= std::min(budget, before - raw_left_);
	return r;
}

// Raw bytes with no partial frame pending go straight from the socket to
// on_raw through the Engine's buffer.
int PeerConn::recv_raw(std::size_t& budget)
{
	std::span<std::byte> buf = buffers_.read_buffer();
	std::size_t want = std::min(raw_left_, buf.size());
	ssize_t n = ::recv(fd_, buf.data(), want, 0);
	if (n <= 0)
		return recv_ended(n);
	auto got = static_cast<std::size_t>(n);
	budget -= std::min(budget, got);
	if (!deliver_raw(buf.first(got)))
		return -1;
	return got < want ? 0 : 1;
}

// Anything else is appended to in_ and framed there.
int PeerConn::recv_frames(std::size_t& budget)
{
	constexpr std::size_t want = 64 * 1024;
	std::size_t old = in_.size();
	in_.resize(old + want);
	ssize_t n = ::recv(fd_, in_.data() + old, want, 0);
	in_.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
	if (n <= 0)
		return recv_ended(n);
	auto got = static_cast<std::size_t>(n);
	budget -= std::min(budget, got);
	// Decoded messages are copies, so erasing after deliver is safe.
	std::size_t used = 0;
	if (!deliver(in_, used))
		return -1;
	in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
	if (in_.size() > p2p::kHeaderSize + p2p::kMaxPayload + p2p::kMacSize) {
		refuse(p2p::refusal(p2p::FrameFault::TooLarge));
		return -1;
	}
	return got < want ? 0 : 1;
}

int PeerConn::recv_ended(ssize_t n)
{
	if (n == 0) {
		close("connection closed by peer");
		return -1;
	}
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	close(std::string("recv failed: ") + std::strerror(errno));
	return -1;
}

} // namespace p2pget
