// Shared pieces of the integration tests: real processes on free loopback
// ports, stopped by PID; a blocking client built on the codec; temp dirs.
#pragma once

#include "p2p/codec.h"
#include "p2p/frame-auth.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

namespace fixtures {

namespace fs = std::filesystem;

// Path of a program under test: $P2P_BIN_DIR/name (set by `make integration`).
std::string bin(const std::string& name);
// Path of a helper tool built from tools/: $P2P_TOOL_DIR/name.
std::string tool(const std::string& name);

// Raises this process's open-files limit to `want` (within the hard limit),
// for tests that hold many sockets at once.
void raise_fd_limit(unsigned long want = 4096);

// Catch2 v2 has no SKIP: one plain line on stdout names the test that did
// not run and why, where a WARN would print a banner that reads like a
// failure. The caller returns.
void skip(const std::string& why);

// A port that was free a moment ago: a random one below the ephemeral
// range that binds (see fixtures.cc for why not one the kernel picks).
std::uint16_t free_port();
// Polls until something accepts on 127.0.0.1:port (or ::1 when v6).
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                   bool v6 = false);

// A child process; killed with SIGKILL and reaped on destruction if still
// running. stdout/stderr go to files under a temp dir, read with output().
class Process {
public:
	explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {});
	Process(const Process&) = delete;
	Process& operator=(const Process&) = delete;
	~Process();

	pid_t pid() const { return pid_; }
	void signal(int sig);
	// Exit status (0-255), 128+signal if killed, or nullopt on timeout.
	std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
	bool running();
	std::string stdout_text() const;
	std::string stderr_text() const;

private:
	pid_t pid_ = -1;
	std::optional<int> status_;
	fs::path out_, err_;
};

// Runs argv to completion; returns exit status and captured output.
struct RunResult {
	int status = -1;
	std::string out, err;
};
RunResult run(std::vector<std::string> argv, std::vector<std::string> env = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A temp dir removed with everything in it on destruction.
class TempDir {
public:
	TempDir();
	~TempDir();
	TempDir(const TempDir&) = delete;
	TempDir& operator=(const TempDir&) = delete;
	const fs::path& path() const { return path_; }
	fs::path operator/(const std::string& rel) const { return path_ / rel; }

private:
	fs::path path_;
};

// Writes `size` deterministic pseudo-random bytes (seeded) to `path`.
void write_file(const fs::path& path, std::uint64_t size, std::uint32_t seed = 1);
void write_text(const fs::path& path, const std::string& text);
std::string read_all(const fs::path& path);
bool same_contents(const fs::path& a, const fs::path& b);
// The content hash of a file as a peer computes it (2 MiB chunks), and
// optionally its chunk hashes.
p2p::Hash file_content_hash(const fs::path& path, std::vector<p2p::Hash>* chunks_out = nullptr);
// Writes all of `len` bytes to a blocking socket; false on error.
bool send_all(int fd, const void* data, std::size_t len);
// Sends `request` to 127.0.0.1:port and returns all it gets until the
// server closes (HTTP/1.0, for --metrics).
std::string http(std::uint16_t port, const std::string& request);
inline std::string scrape_metrics(std::uint16_t port) { return http(port, "GET /metrics HTTP/1.0\r\n\r\n"); }

// A blocking TCP client speaking frames, for driving the daemons directly.
class Client {
public:
	Client() = default;
	Client(const Client&) = delete;
	Client& operator=(const Client&) = delete;
	~Client();

	bool connect(std::uint16_t port, bool v6 = false);
	// Closed cluster: seal every frame sent and check every frame received
	// (call after connect; a new connect starts the counters afresh).
	void set_secret(const p2p::SecretKey& key) { auth_.emplace(key, true); }
	void close();
	bool send(const p2p::Message& msg);
	bool send_bytes(const void* data, std::size_t len);
	// Next message, or nullopt on timeout, EOF or a bad frame.
	std::optional<p2p::Message> recv(std::chrono::milliseconds timeout = std::chrono::seconds(5));
	// Raw bytes after a ChunkData frame.
	std::optional<std::string> recv_raw(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
	// True once the server has closed the connection (reads EOF or RST).
	bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
	int fd() const { return fd_; }

private:
	bool fill(std::chrono::steady_clock::time_point deadline);
	int fd_ = -1;
	std::vector<std::byte> buf_;
	std::optional<p2p::FrameAuth> auth_;
};

// Sends `msg` and returns the reply of type T, or nullopt.
template <typename T>
std::optional<T> ask(Client& c, const p2p::Message& msg, std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
	if (!c.send(msg))
		return std::nullopt;
	auto reply = c.recv(timeout);
	if (!reply || !std::holds_alternative<T>(*reply))
		return std::nullopt;
	return std::get<T>(*reply);
}

// Polls `pred` every 20 ms until it is true or `timeout` passes.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
	auto deadline = std::chrono::steady_clock::now() + timeout;
	while (true) {
		if (pred())
			return true;
		if (std::chrono::steady_clock::now() > deadline)
			return false;
		struct timespec ts{0, 20 * 1000 * 1000};
		nanosleep(&ts, nullptr);
	}
}

} // namespace fixtures
