// A chunk server in this process for the serve library's tests: a fake
// download in progress (PartialSource) and a ChunkServer on its own event
// loop in a thread (ServerThread), on a free port.
#pragma once

#include "fixtures.h"

#include "serve/chunk-server.h"
#include "serve/listen-socket.h"

#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace serve_test {

using namespace fixtures;

constexpr std::uint32_t kChunk = 64 * 1024;
constexpr std::uint64_t kSize = 8 * kChunk + 1000; // 9 chunks, the last short

// A download in progress: the file's hashes are all known (its manifest
// was fetched), only the chunks marked verified may be served. Runs on the
// server's thread; what the test sets before the server starts, or reads
// after it stops, needs no lock.
class PartialSource : public serve::ServeSource {
public:
	PartialSource(fs::path path, const serve::Counters& counters) : path_(std::move(path)), counters_(counters)
	{
		std::string bytes = read_all(path_);
		for (std::uint64_t at = 0; at < bytes.size(); at += kChunk)
			hashes_.push_back(p2p::hash_bytes(bytes.data() + at, std::min<std::uint64_t>(kChunk, bytes.size() - at)));
		content_ = p2p::content_hash(hashes_);
		verified_.assign(hashes_.size(), false);
	}
	std::optional<serve::ServedFile> find(const std::string& name) override
	{
		if (name != "part.bin")
			return std::nullopt;
		serve::ServedFile f;
		f.size = kSize;
		f.content = content_;
		f.chunk_size = kChunk;
		f.chunk_hashes = hashes_;
		f.verified = &verified_;
		return f;
	}
	int open_file(const std::string&) override
	{
		if (int err = fail_open.exchange(0)) {
			errno = err;
			return -1;
		}
		return ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
	}
	void changed(const std::string& name) override
	{
		std::lock_guard lock(mu_);
		changed_.push_back(name);
	}
	Stats stats() const override
	{
		Stats s = counters_.pairs();
		s.emplace_back("partial_source", 1);
		return s;
	}

	std::vector<std::string> changed_names()
	{
		std::lock_guard lock(mu_);
		return changed_;
	}
	std::vector<p2p::Hash> hashes_;
	p2p::Hash content_{};
	std::vector<bool> verified_;
	std::atomic<int> fail_open{0}; // errno for the next open_file

private:
	fs::path path_;
	const serve::Counters& counters_;
	std::mutex mu_;
	std::vector<std::string> changed_;
};

// A download in progress on disk: part.bin (kSize bytes made from `seed`)
// in a temp folder and its PartialSource with `verified` marked, with the
// counters a server of it shares.
struct PartialFile {
	explicit PartialFile(std::uint32_t seed, std::initializer_list<std::uint32_t> verified = {})
		: source(written(tmp, seed), counters)
	{
		for (std::uint32_t c : verified)
			source.verified_.at(c) = true;
	}
	fs::path path() const { return tmp / "part.bin"; }
	void verify_all() { source.verified_.assign(source.verified_.size(), true); }

	TempDir tmp;
	serve::Counters counters;
	PartialSource source;

private:
	static fs::path written(const TempDir& tmp, std::uint32_t seed)
	{
		REQUIRE(p2p::hash_init());
		write_file(tmp / "part.bin", kSize, seed);
		return tmp / "part.bin";
	}
};

// A ChunkServer on its own event loop in a thread, on a free port.
class ServerThread {
public:
	ServerThread(serve::ServeSource& source, serve::Counters& counters, serve::ChunkServerLimits limits = {})
		: source_(source), counters_(counters), limits_(limits)
	{
		std::string error;
		int lfd = serve::listen_socket(port_, &error);
		INFO(error);
		REQUIRE(lfd >= 0);
		thread_ = std::thread([this, lfd] { run(lfd); });
		REQUIRE(wait_for_port(port_));
	}
	ServerThread(const ServerThread&) = delete;
	ServerThread& operator=(const ServerThread&) = delete;
	~ServerThread() { stop(); }
	// Frees the server with whatever sessions it still has.
	void stop()
	{
		stop_ = true;
		if (thread_.joinable())
			thread_.join();
	}
	std::uint16_t port() const { return port_; }
	// Runs `fn(server)` on the server's loop (within a tick) and waits for it.
	void run_on_loop(std::function<void(serve::ChunkServer&)> fn)
	{
		std::atomic<bool> done{false};
		{
			std::lock_guard lock(mu_);
			tasks_.push_back([&](serve::ChunkServer& s) {
				fn(s);
				done = true;
			});
		}
		REQUIRE(eventually([&] { return done.load(); }));
	}

private:
	void run(int lfd)
	{
		p2p::EventBasePtr base(event_base_new());
		{
			serve::ChunkServer server(base.get(), lfd, source_, counters_, limits_);
			server_ = &server;
			p2p::EventPtr tick(event_new(base.get(), -1, EV_PERSIST, tick_cb, this));
			timeval every = p2p::to_timeval(0.02);
			event_add(tick.get(), &every);
			base_ = base.get();
			event_base_dispatch(base.get());
		}
		// As peerd's main: let libevent run the finalizers the frees queued.
		for (int i = 0; i < 3; i++)
			event_base_loop(base.get(), EVLOOP_NONBLOCK);
	}
	static void tick_cb(evutil_socket_t, short, void* self)
	{
		auto* t = static_cast<ServerThread*>(self);
		std::deque<std::function<void(serve::ChunkServer&)>> tasks;
		{
			std::lock_guard lock(t->mu_);
			tasks.swap(t->tasks_);
		}
		for (auto& task : tasks)
			task(*t->server_);
		if (t->stop_)
			event_base_loopbreak(t->base_);
	}

	serve::ServeSource& source_;
	serve::Counters& counters_;
	serve::ChunkServerLimits limits_;
	std::uint16_t port_ = free_port();
	std::atomic<bool> stop_{false};
	event_base* base_ = nullptr;
	serve::ChunkServer* server_ = nullptr;
	std::mutex mu_;
	std::deque<std::function<void(serve::ChunkServer&)>> tasks_;
	std::thread thread_;
};

struct Reply {
	std::optional<p2p::ChunkData> data;
	std::optional<p2p::Error> error;
	std::string bytes;
};

inline Reply chunk(Client& c, const p2p::ChunkRequest& req)
{
	Reply r;
	if (!c.send(req))
		return r;
	auto msg = c.recv();
	if (!msg)
		return r;
	if (auto* e = std::get_if<p2p::Error>(&*msg))
		r.error = *e;
	if (auto* d = std::get_if<p2p::ChunkData>(&*msg)) {
		r.data = *d;
		if (auto raw = c.recv_raw(d->length))
			r.bytes = *raw;
	}
	return r;
}

inline std::map<std::string, std::uint64_t> stats_of(Client& c)
{
	auto r = ask<p2p::StatsReply>(c, p2p::Stats{});
	REQUIRE(r);
	return {r->counters.begin(), r->counters.end()};
}

} // namespace serve_test
