#include "fixtures.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <iostream>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <random>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace fixtures {

using namespace std::chrono;

static std::string env_or(const char* name, const char* fallback)
{
	const char* v = std::getenv(name);
	return v && *v ? v : fallback;
}

void skip(const std::string& why)
{
	std::cout << "skipped: " << Catch::getResultCapture().getCurrentTestName() << ": " << why << std::endl;
}

std::string bin(const std::string& name) { return env_or("P2P_BIN_DIR", ".") + "/" + name; }
std::string tool(const std::string& name) { return env_or("P2P_TOOL_DIR", "build/tools") + "/" + name; }

void raise_fd_limit(unsigned long want)
{
	rlimit rl{};
	::getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = std::max<rlim_t>(rl.rlim_cur, std::min<rlim_t>(rl.rlim_max, want));
	::setrlimit(RLIMIT_NOFILE, &rl);
}

// Below the kernel's ephemeral range: a port picked there can be taken by
// any outgoing connection (another test shard's clients make thousands)
// between our check and the server's bind. Random, so shards running at
// once rarely try the same one.
static bool can_bind(std::uint16_t port)
{
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
	if (fd >= 0)
		::close(fd);
	return ok;
}

std::uint16_t free_port()
{
	unsigned low = 32768;
	std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
	range >> low;
	low = std::clamp(low, 2048u, 65535u);
	static std::mt19937 pick(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
	std::uniform_int_distribution<unsigned> below(1024, low - 1);
	for (int i = 0; i < 1000; i++) {
		auto port = static_cast<std::uint16_t>(below(pick));
		if (can_bind(port))
			return port;
	}
	throw std::runtime_error("free_port: no port below the ephemeral range binds");
}

static int connect_to(std::uint16_t port, bool v6)
{
	int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rc;
	if (v6) {
		sockaddr_in6 sa{};
		sa.sin6_family = AF_INET6;
		sa.sin6_addr = in6addr_loopback;
		sa.sin6_port = htons(port);
		rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	} else {
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons(port);
		rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	}
	if (rc != 0) {
		::close(fd);
		return -1;
	}
	return fd;
}

bool wait_for_port(std::uint16_t port, milliseconds timeout, bool v6)
{
	return eventually(
		[&] {
			int fd = connect_to(port, v6);
			if (fd < 0)
				return false;
			::close(fd);
			return true;
		},
		timeout);
}

static fs::path make_temp_dir()
{
	std::string tmpl = (fs::temp_directory_path() / "p2p-test-XXXXXX").string();
	if (!::mkdtemp(tmpl.data()))
		throw std::runtime_error("mkdtemp failed");
	return tmpl;
}

Process::Process(std::vector<std::string> argv, std::vector<std::string> env)
{
	auto dir = make_temp_dir();
	out_ = dir / "stdout";
	err_ = dir / "stderr";
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("fork failed");
	if (pid_ == 0) {
		int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int devnull = ::open("/dev/null", O_RDONLY);
		::dup2(devnull, 0);
		::dup2(out, 1);
		::dup2(err, 2);
		for (auto& e : env)
			::putenv(e.data());
		std::vector<char*> args;
		for (auto& a : argv)
			args.push_back(a.data());
		args.push_back(nullptr);
		::execv(args[0], args.data());
		std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
		::_exit(127);
	}
}

Process::~Process()
{
	if (running()) {
		::kill(pid_, SIGKILL);
		wait(seconds(5));
	}
	std::error_code ec;
	fs::remove_all(out_.parent_path(), ec);
}

void Process::signal(int sig)
{
	if (!status_)
		::kill(pid_, sig);
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

std::optional<int> Process::wait(milliseconds timeout)
{
	if (status_)
		return status_;
	eventually(
		[&] {
			int st = 0;
			pid_t r = ::waitpid(pid_, &st, WNOHANG);
			if (r == pid_)
				status_ = decode_status(st);
			return status_.has_value();
		},
		timeout);
	return status_;
}

bool Process::running()
{
	if (status_)
		return false;
	int st = 0;
	if (::waitpid(pid_, &st, WNOHANG) == pid_) {
		status_ = decode_status(st);
		return false;
	}
	return true;
}

std::string Process::stdout_text() const { return read_all(out_); }
std::string Process::stderr_text() const { return read_all(err_); }

RunResult run(std::vector<std::string> argv, std::vector<std::string> env, milliseconds timeout)
{
	Process p(std::move(argv), std::move(env));
	RunResult r;
	auto st = p.wait(timeout);
	r.status = st ? *st : -1;
	r.out = p.stdout_text();
	r.err = p.stderr_text();
	return r;
}

TempDir::TempDir() : path_(make_temp_dir()) {}

TempDir::~TempDir()
{
	std::error_code ec;
	fs::remove_all(path_, ec);
}

void write_file(const fs::path& path, std::uint64_t size, std::uint32_t seed)
{
	fs::create_directories(path.parent_path());
	std::ofstream out(path, std::ios::binary | std::ios::trunc);
	std::mt19937_64 rng(seed);
	std::vector<std::uint64_t> block(8192);
	while (size > 0) {
		for (auto& w : block)
			w = rng();
		std::uint64_t n = std::min<std::uint64_t>(size, block.size() * 8);
		out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
		size -= n;
	}
}

void write_text(const fs::path& path, const std::string& text)
{
	fs::create_directories(path.parent_path());
	std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string read_all(const fs::path& path)
{
	std::ifstream in(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool same_contents(const fs::path& a, const fs::path& b)
{
	std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
	if (!fa || !fb)
		return false;
	std::vector<char> ba(1 << 16), bb(1 << 16);
	while (true) {
		fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
		fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
		if (fa.gcount() != fb.gcount())
			return false;
		if (std::memcmp(ba.data(), bb.data(), static_cast<std::size_t>(fa.gcount())) != 0)
			return false;
		if (fa.gcount() == 0)
			return true;
	}
}

p2p::Hash file_content_hash(const fs::path& path, std::vector<p2p::Hash>* chunks_out)
{
	std::ifstream in(path, std::ios::binary);
	std::vector<char> buf(p2p::kChunkSize);
	std::vector<p2p::Hash> chunks;
	while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
		chunks.push_back(p2p::hash_bytes(buf.data(), static_cast<std::size_t>(in.gcount())));
	if (chunks_out)
		*chunks_out = chunks;
	return p2p::content_hash(chunks);
}

std::string http(std::uint16_t port, const std::string& request)
{
	int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	timeval tv{5, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
	REQUIRE(send_all(fd, request.data(), request.size()));
	std::string out;
	char buf[4096];
	ssize_t n;
	while ((n = ::read(fd, buf, sizeof buf)) > 0)
		out.append(buf, static_cast<std::size_t>(n));
	::close(fd);
	return out;
}

bool send_all(int fd, const void* data, std::size_t len)
{
	auto p = static_cast<const char*>(data);
	while (len > 0) {
		ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return false;
		p += n;
		len -= static_cast<std::size_t>(n);
	}
	return true;
}

Client::~Client() { close(); }

bool Client::connect(std::uint16_t port, bool v6)
{
	close();
	fd_ = connect_to(port, v6);
	if (fd_ >= 0) {
		int one = 1;
		::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd_ >= 0;
}

void Client::close()
{
	if (fd_ >= 0)
		::close(fd_);
	fd_ = -1;
	buf_.clear();
	auth_.reset();
}

bool Client::send_bytes(const void* data, std::size_t len) { return send_all(fd_, data, len); }

bool Client::send(const p2p::Message& msg)
{
	auto bytes = p2p::encode(msg);
	if (auth_)
		auth_->append_mac(bytes);
	return send_bytes(bytes.data(), bytes.size());
}

bool Client::fill(steady_clock::time_point deadline)
{
	auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
	if (left < 0)
		return false;
	pollfd pfd{fd_, POLLIN, 0};
	if (::poll(&pfd, 1, static_cast<int>(left)) <= 0)
		return false;
	char tmp[65536];
	ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
	if (n <= 0)
		return false;
	auto b = reinterpret_cast<const std::byte*>(tmp);
	buf_.insert(buf_.end(), b, b + n);
	return true;
}

std::optional<p2p::Message> Client::recv(milliseconds timeout)
{
	auto deadline = steady_clock::now() + timeout;
	while (true) {
		p2p::Decoded d = p2p::decode(buf_);
		std::size_t mac = auth_ ? p2p::kMacSize : 0;
		if (d.status == p2p::DecodeStatus::Ok && buf_.size() >= d.consumed + mac) {
			std::span<const std::byte> all(buf_);
			if (auth_ && !auth_->verify(all.first(d.consumed), all.subspan(d.consumed, mac)))
				return std::nullopt;
			buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(d.consumed + mac));
			return std::move(d.message);
		}
		if (d.status == p2p::DecodeStatus::Bad || !fill(deadline))
			return std::nullopt;
	}
}

std::optional<std::string> Client::recv_raw(std::size_t n, milliseconds timeout)
{
	auto deadline = steady_clock::now() + timeout;
	while (buf_.size() < n)
		if (!fill(deadline))
			return std::nullopt;
	std::string out(reinterpret_cast<const char*>(buf_.data()), n);
	buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n));
	return out;
}

bool Client::closed_by_peer(milliseconds timeout)
{
	auto deadline = steady_clock::now() + timeout;
	while (steady_clock::now() < deadline) {
		auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
		pollfd pfd{fd_, POLLIN, 0};
		if (::poll(&pfd, 1, static_cast<int>(std::max<long>(left, 1))) <= 0)
			continue;
		char tmp[4096];
		ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
		if (n <= 0)
			return true;
	}
	return false;
}

} // namespace fixtures
