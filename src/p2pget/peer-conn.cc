// The peer socket; see peer-conn.h.
#include "peer-conn.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2pget {

namespace {

// The reactor is one thread, and raw bytes are consumed within on_raw, so
// one buffer serves every connection.
constexpr std::size_t kReadBuffer = 1u << 20;
std::byte* shared_buffer()
{
	static std::vector<std::byte> buf(kReadBuffer);
	return buf.data();
}

// One pipe for every splice: each use empties it before the next begins.
struct SplicePipe {
	int read = -1, write = -1;
	std::size_t size = 0;
};
const SplicePipe& splice_pipe()
{
	static SplicePipe p = [] {
		SplicePipe q;
		int fds[2];
		if (::pipe2(fds, O_CLOEXEC) != 0)
			return q;
		q.read = fds[0];
		q.write = fds[1];
		::fcntl(q.write, F_SETPIPE_SZ, 1 << 20); // may be refused: then 64 KiB
		int size = ::fcntl(q.write, F_GETPIPE_SZ);
		q.size = size > 0 ? static_cast<std::size_t>(size) : 65536;
		return q;
	}();
	return p;
}

// Per wakeup, so one fast peer cannot starve the others.
constexpr std::size_t kReadBudget = 4u << 20;

} // namespace

PeerConn::PeerConn(event_base* base, const p2p::SockAddr& addr, Callbacks cb) : cb_(std::move(cb))
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

// Hands raw bytes on while some are owed, then decodes frames; `used` is
// how much of `bytes` was consumed. False once the connection closed.
bool PeerConn::deliver(std::span<const std::byte> bytes, std::size_t& used)
{
	used = 0;
	while (fd_ >= 0 && used < bytes.size()) {
		if (raw_left_ > 0) {
			std::size_t n = std::min(raw_left_, bytes.size() - used);
			raw_left_ -= n;
			if (cb_.on_raw)
				cb_.on_raw(bytes.subspan(used, n));
			used += n;
			continue;
		}
		std::span<const std::byte> rest = bytes.subspan(used);
		std::size_t mac = 0;
		if (auth_) {
			// The MAC is checked before the payload is parsed.
			p2p::FrameHeader h{};
			p2p::Decoded hd = p2p::check_header(rest, h);
			if (hd.status == p2p::DecodeStatus::Bad) {
				close(std::string("bad frame: ") + hd.why);
				return false;
			}
			std::size_t frame = p2p::kHeaderSize + h.length;
			if (hd.status == p2p::DecodeStatus::NeedMore || rest.size() < frame + p2p::kMacSize)
				break;
			if (!auth_->verify(rest.first(frame), rest.subspan(frame, p2p::kMacSize))) {
				bad_auth_ = true;
				close(std::string(p2p::msg_type_name(h.type)) +
				      " frame MAC missing or wrong (is --secret-file the same?)");
				return false;
			}
			rest = rest.first(frame);
			mac = p2p::kMacSize;
		}
		p2p::Decoded d = p2p::decode(rest);
		if (d.status == p2p::DecodeStatus::NeedMore)
			break;
		if (d.status == p2p::DecodeStatus::Bad) {
			close(std::string("bad frame: ") + d.why);
			return false;
		}
		used += d.consumed + mac;
		if (cb_.on_message)
			cb_.on_message(d.message);
	}
	return fd_ >= 0;
}

// socket -> pipe -> file: the kernel copies the bytes once, into the page
// cache, instead of twice through a buffer of ours.
int PeerConn::splice_raw(int sink, std::uint64_t offset)
{
	const SplicePipe& pipe = splice_pipe();
	std::size_t want = std::min(raw_left_, pipe.size);
	ssize_t n = ::splice(fd_, nullptr, pipe.write, nullptr, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
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
		ssize_t m = ::splice(pipe.read, nullptr, sink, &off, got - moved, SPLICE_F_MOVE);
		if (m <= 0)
			break;
		moved += static_cast<std::size_t>(m);
	}
	raw_left_ -= moved;
	if (moved > 0 && cb_.on_raw_in_file)
		cb_.on_raw_in_file(moved);
	if (moved < got) {
		// The file refused them (disk full...): empty the pipe through
		// on_raw, whose own write reports the error.
		std::size_t left = got - moved;
		while (left > 0 && fd_ >= 0) {
			ssize_t r = ::read(pipe.read, shared_buffer(), std::min(left, kReadBuffer));
			if (r <= 0)
				break;
			std::size_t used = 0;
			left -= static_cast<std::size_t>(r);
			deliver({shared_buffer(), static_cast<std::size_t>(r)}, used);
		}
		// Whatever is left (the connection closed meanwhile) must not
		// reach the next user of the pipe.
		while (left > 0) {
			ssize_t r = ::read(pipe.read, shared_buffer(), std::min(left, kReadBuffer));
			if (r <= 0)
				break;
			left -= static_cast<std::size_t>(r);
		}
	}
	return fd_ >= 0 ? 1 : -1;
}

void PeerConn::on_readable()
{
	std::size_t budget = kReadBudget;
	while (fd_ >= 0 && budget > 0) {
		std::uint64_t offset = 0;
		int sink = raw_left_ > 0 && in_.empty() && cb_.raw_sink && splice_pipe().write >= 0 ? cb_.raw_sink(offset) : -1;
		if (sink >= 0) {
			std::size_t before = raw_left_;
			int r = splice_raw(sink, offset);
			if (r <= 0)
				return;
			budget -= std::min(budget, before - raw_left_);
			continue;
		}
		// Raw bytes with no partial frame pending go straight from the
		// socket to on_raw through the shared buffer; anything else is
		// appended to in_ and decoded there.
		bool raw_direct = raw_left_ > 0 && in_.empty();
		std::byte* dst;
		std::size_t want;
		if (raw_direct) {
			dst = shared_buffer();
			want = std::min(raw_left_, kReadBuffer);
		} else {
			std::size_t old = in_.size();
			want = 64 * 1024;
			in_.resize(old + want);
			dst = in_.data() + old;
		}
		ssize_t n = ::recv(fd_, dst, want, 0);
		if (!raw_direct)
			in_.resize(in_.size() - want + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				close(std::string("recv failed: ") + std::strerror(errno));
			return;
		}
		if (n == 0) {
			close("connection closed by peer");
			return;
		}
		budget -= std::min(budget, static_cast<std::size_t>(n));
		std::size_t used = 0;
		if (raw_direct) {
			if (!deliver({dst, static_cast<std::size_t>(n)}, used))
				return;
		} else {
			// in_ may be appended to by nothing else during deliver, but
			// decoded messages refer into a copy, so erasing after is safe.
			if (!deliver(in_, used))
				return;
			in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
			if (in_.size() > p2p::kHeaderSize + p2p::kMaxPayload + p2p::kMacSize) {
				close("frame too large");
				return;
			}
		}
		if (static_cast<std::size_t>(n) < want)
			return; // drained
	}
}

} // namespace p2pget
