// chunk-pull: a plain blocking client that pulls one file from one peerd
// chunk by chunk, keeping DEPTH requests in flight, for benchmarks
// (tools/bench-peer.sh). Prints bytes, seconds and MB/s on stdout.
//
//   chunk-pull [-H HOST] -p PORT [-d DEPTH] [-o FILE] [--verify] NAME
#include "p2p/address.h"
#include "p2p/codec.h"
#include "p2p/hash.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what)
{
	std::fprintf(stderr, "chunk-pull: %s\n", what.c_str());
	std::exit(1);
}

class Conn {
public:
	explicit Conn(int fd) : fd_(fd), buf_(1 << 20) {}
	void send(const p2p::Message& m)
	{
		auto bytes = p2p::encode(m);
		const std::byte* p = bytes.data();
		std::size_t left = bytes.size();
		while (left > 0) {
			ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
			if (n <= 0)
				die(std::string("send: ") + std::strerror(errno));
			p += n;
			left -= static_cast<std::size_t>(n);
		}
	}
	p2p::Message recv()
	{
		while (true) {
			auto d = p2p::decode({buf_.data() + start_, end_ - start_});
			if (d.status == p2p::DecodeStatus::Ok) {
				start_ += d.consumed;
				return std::move(d.message);
			}
			if (d.status == p2p::DecodeStatus::Bad)
				die(std::string("bad frame from the peer: ") + d.why);
			fill();
		}
	}
	// Passes the next `n` raw bytes to `sink` in pieces, straight from the
	// receive buffer.
	template <typename Sink>
	void raw(std::size_t n, Sink sink)
	{
		while (n > 0) {
			if (start_ == end_)
				fill();
			std::size_t k = std::min(n, end_ - start_);
			sink(buf_.data() + start_, k);
			start_ += k;
			n -= k;
		}
	}

private:
	void fill()
	{
		if (start_ == end_)
			start_ = end_ = 0;
		if (end_ == buf_.size()) {
			std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
			end_ -= start_;
			start_ = 0;
		}
		ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
		if (n <= 0)
			die(n == 0 ? "the peer closed the connection" : std::string("recv: ") + std::strerror(errno));
		end_ += static_cast<std::size_t>(n);
	}
	int fd_;
	std::vector<std::byte> buf_;
	std::size_t start_ = 0, end_ = 0;
};

} // namespace

int main(int argc, char** argv)
{
	std::string host = "127.0.0.1", name, out;
	int port = 0;
	unsigned depth = 4;
	bool verify = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto next = [&] {
			if (i + 1 >= argc)
				die("option " + a + " needs a value");
			return std::string(argv[++i]);
		};
		if (a == "-H")
			host = next();
		else if (a == "-p")
			port = std::atoi(next().c_str());
		else if (a == "-d")
			depth = static_cast<unsigned>(std::max(1, std::atoi(next().c_str())));
		else if (a == "-o")
			out = next();
		else if (a == "--verify")
			verify = true;
		else if (!a.empty() && a[0] != '-' && name.empty())
			name = a;
		else
			die("usage: chunk-pull [-H HOST] -p PORT [-d DEPTH] [-o FILE] [--verify] NAME");
	}
	if (name.empty() || port <= 0 || port > 65535)
		die("usage: chunk-pull [-H HOST] -p PORT [-d DEPTH] [-o FILE] [--verify] NAME");
	if (!p2p::hash_init())
		die("libsodium");
	std::string err;
	auto addr = p2p::resolve({host, static_cast<std::uint16_t>(port)}, &err);
	if (!addr)
		die("cannot resolve " + host + ": " + err);
	int fd = ::socket(addr->family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ::connect(fd, addr->get(), addr->len) != 0)
		die("cannot connect to " + p2p::format_endpoint(addr->get()) + ": " + std::strerror(errno));
	int one = 1;
	::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	Conn conn(fd);

	auto t0 = std::chrono::steady_clock::now();
	// The manifest, every page.
	std::vector<p2p::Hash> hashes;
	p2p::Manifest first;
	do {
		conn.send(p2p::ManifestRequest{name, static_cast<std::uint32_t>(hashes.size())});
		auto m = conn.recv();
		if (auto* e = std::get_if<p2p::Error>(&m))
			die(name + ": " + p2p::error_code_name(e->code) + ": " + e->text);
		auto* page = std::get_if<p2p::Manifest>(&m);
		if (!page)
			die("expected a manifest");
		if (hashes.empty())
			first = *page;
		hashes.insert(hashes.end(), page->chunk_hashes.begin(), page->chunk_hashes.end());
		if (page->chunk_hashes.empty())
			break;
	} while (hashes.size() < first.chunk_count);

	int out_fd = -1;
	if (!out.empty()) {
		out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0)
			die(out + ": " + std::strerror(errno));
	}
	std::uint32_t next = 0, done = 0;
	std::uint64_t bytes = 0;
	auto ask = [&] {
		std::uint64_t offset = static_cast<std::uint64_t>(next) * first.chunk_size;
		auto len = static_cast<std::uint32_t>(std::min<std::uint64_t>(first.chunk_size, first.size - offset));
		conn.send(p2p::ChunkRequest{next, name, first.content_hash, offset, len});
		next++;
	};
	while (next < first.chunk_count && next < depth)
		ask();
	while (done < first.chunk_count) {
		auto m = conn.recv();
		if (auto* e = std::get_if<p2p::Error>(&m))
			die(name + ": chunk " + std::to_string(e->ref) + ": " + p2p::error_code_name(e->code) + ": " + e->text);
		auto* d = std::get_if<p2p::ChunkData>(&m);
		if (!d || d->id != done)
			die("unexpected reply (out of order?)");
		p2p::Hasher h;
		std::uint64_t at = d->offset;
		conn.raw(d->length, [&](const std::byte* p, std::size_t n) {
			if (verify)
				h.update(p, n);
			if (out_fd >= 0 && ::pwrite(out_fd, p, n, static_cast<off_t>(at)) < 0)
				die(out + ": write failed");
			at += n;
		});
		if (verify && h.finish() != hashes[done])
			die("chunk " + std::to_string(done) + " does not match its hash");
		bytes += d->length;
		done++;
		if (next < first.chunk_count)
			ask();
	}
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	std::printf("%s: %llu bytes in %.3f s, %.1f MB/s\n", name.c_str(), static_cast<unsigned long long>(bytes), secs,
	            static_cast<double>(bytes) / secs / 1e6);
	if (out_fd >= 0)
		::close(out_fd);
	::close(fd);
	return 0;
}
