// The chunk server library on its own, in this process, serving a fake
// download in progress (a test-only ServeSource with some chunks verified,
// as p2pget will): verified chunks are served, any range touching an
// unverified one gets NotFound with the request's id and the connection
// goes on; open failures follow the ServeSource contract; and a server
// freed mid-transfer under a rate limit frees cleanly.
#include "fixtures.h"

#include "serve/chunk-server.h"
#include "serve/listen-socket.h"

#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace fixtures;
using namespace std::chrono_literals;

namespace {

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

private:
	void run(int lfd)
	{
		p2p::EventBasePtr base(event_base_new());
		{
			serve::ChunkServer server(base.get(), lfd, source_, counters_, limits_);
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
		if (t->stop_)
			event_base_loopbreak(t->base_);
	}

	serve::ServeSource& source_;
	serve::Counters& counters_;
	serve::ChunkServerLimits limits_;
	std::uint16_t port_ = free_port();
	std::atomic<bool> stop_{false};
	event_base* base_ = nullptr;
	std::thread thread_;
};

struct Reply {
	std::optional<p2p::ChunkData> data;
	std::optional<p2p::Error> error;
	std::string bytes;
};

Reply chunk(Client& c, const p2p::ChunkRequest& req)
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

std::map<std::string, std::uint64_t> stats_of(Client& c)
{
	auto r = ask<p2p::StatsReply>(c, p2p::Stats{});
	REQUIRE(r);
	return {r->counters.begin(), r->counters.end()};
}

} // namespace

TEST_CASE("serve library: a partial source serves its verified chunks and nothing else", "[serve][partial]")
{
	REQUIRE(p2p::hash_init());
	TempDir tmp;
	write_file(tmp / "part.bin", kSize, 11);
	std::string bytes = read_all(tmp / "part.bin");
	serve::Counters counters;
	PartialSource source(tmp / "part.bin", counters);
	for (std::uint32_t c : {0u, 2u, 3u, 8u})
		source.verified_[c] = true;
	ServerThread server(source, counters);
	Client c;
	REQUIRE(c.connect(server.port()));
	const p2p::Hash h = source.content_;

	// The manifest is whole: a partial holder knows every hash.
	auto m = ask<p2p::Manifest>(c, p2p::ManifestRequest{"part.bin", 0});
	REQUIRE(m);
	CHECK(m->size == kSize);
	CHECK(m->chunk_size == kChunk);
	CHECK(m->chunk_count == 9);
	CHECK(m->content_hash == h);
	CHECK(m->chunk_hashes == source.hashes_);

	auto one = chunk(c, {1, "part.bin", h, 0, kChunk});
	REQUIRE(one.data);
	CHECK(one.bytes == bytes.substr(0, kChunk));
	auto two_three = chunk(c, {2, "part.bin", h, 2 * kChunk + 5, 2 * kChunk - 10});
	REQUIRE(two_three.data);
	CHECK(two_three.bytes == bytes.substr(2 * kChunk + 5, 2 * kChunk - 10));
	auto last = chunk(c, {3, "part.bin", h, 8 * kChunk, 1000});
	REQUIRE(last.data);
	CHECK(last.bytes == bytes.substr(8 * kChunk));

	// Unverified, wholly or by one byte: NotFound, the request's id as ref,
	// no bytes, and the next request on the connection is answered.
	const std::vector<p2p::ChunkRequest> refused{
		{4, "part.bin", h, kChunk, kChunk},          // chunk 1
		{5, "part.bin", h, kChunk - 1, 2},           // last byte of 0, first of 1
		{6, "part.bin", h, 4 * kChunk - 1, 2},       // last byte of 3, first of 4
		{7, "part.bin", h, 0, static_cast<std::uint32_t>(kSize)}, // all of it
	};
	for (auto& req : refused) {
		INFO("request " << req.id);
		auto r = chunk(c, req);
		REQUIRE(r.error);
		CHECK(r.error->code == p2p::ErrorCode::NotFound);
		CHECK(r.error->ref == req.id);
		CHECK_FALSE(r.data);
	}
	// Outside the file and another version keep their own codes.
	auto past = chunk(c, {8, "part.bin", h, kSize - 10, 11});
	REQUIRE(past.error);
	CHECK(past.error->code == p2p::ErrorCode::BadRange);
	p2p::Hash other = h;
	other[3] ^= 1;
	auto changed = chunk(c, {9, "part.bin", other, 0, 10});
	REQUIRE(changed.error);
	CHECK(changed.error->code == p2p::ErrorCode::Changed);
	auto missing = ask<p2p::Error>(c, p2p::ManifestRequest{"other.bin", 0});
	REQUIRE(missing);
	CHECK(missing->code == p2p::ErrorCode::NotFound);

	// Still the same connection, and the STATS answer is the source's.
	auto again = chunk(c, {10, "part.bin", h, 3 * kChunk, 16});
	REQUIRE(again.data);
	CHECK(again.bytes == bytes.substr(3 * kChunk, 16));
	auto stats = stats_of(c);
	CHECK(stats["partial_source"] == 1);
	CHECK(stats["chunks_served"] == 4);
	CHECK(stats["bytes_served"] == kChunk + (2 * kChunk - 10) + 1000 + 16);
	CHECK(stats["errors_not_found"] == 5); // the four above and the manifest of other.bin
	CHECK(stats["errors_bad_range"] == 1);
	CHECK(stats["errors_changed"] == 1);
	CHECK(stats["chunk_requests"] == 10);
	CHECK(stats["manifest_requests"] == 2);
	CHECK(source.changed_names().empty());
}

TEST_CASE("serve library: open failures follow the ServeSource contract", "[serve][partial]")
{
	REQUIRE(p2p::hash_init());
	TempDir tmp;
	write_file(tmp / "part.bin", kSize, 12);
	serve::Counters counters;
	PartialSource source(tmp / "part.bin", counters);
	source.verified_.assign(source.verified_.size(), true);
	ServerThread server(source, counters);
	Client c;
	REQUIRE(c.connect(server.port()));
	const p2p::Hash h = source.content_;

	source.fail_open = EMFILE; // out of descriptors: Busy, the file is not suspected
	auto busy = chunk(c, {1, "part.bin", h, 0, 10});
	REQUIRE(busy.error);
	CHECK(busy.error->code == p2p::ErrorCode::Busy);
	CHECK(busy.error->ref == 1);
	CHECK(source.changed_names().empty());

	source.fail_open = ESTALE; // not the bytes described: Changed, and looked at again
	auto stale = chunk(c, {2, "part.bin", h, 0, 10});
	REQUIRE(stale.error);
	CHECK(stale.error->code == p2p::ErrorCode::Changed);
	CHECK(stale.error->text.find("changed since") != std::string::npos);
	CHECK(source.changed_names() == std::vector<std::string>{"part.bin"});

	auto fine = chunk(c, {3, "part.bin", h, 0, 10});
	REQUIRE(fine.data);
	auto stats = stats_of(c);
	CHECK(stats["files_busy"] == 1);
	CHECK(stats["errors_changed"] == 1);
	CHECK(stats["chunks_served"] == 1);
}

TEST_CASE("serve library: freed mid-transfer under a rate limit, it frees cleanly", "[serve][rate][signals]")
{
	REQUIRE(p2p::hash_init());
	TempDir tmp;
	write_file(tmp / "part.bin", kSize, 13);
	serve::Counters counters;
	PartialSource source(tmp / "part.bin", counters);
	source.verified_.assign(source.verified_.size(), true);
	serve::ChunkServerLimits limits;
	limits.rate_limit = 64 * 1024; // the whole file takes 8 s
	ServerThread server(source, counters, limits);
	std::vector<std::unique_ptr<Client>> clients;
	for (int i = 0; i < 3; i++) {
		clients.push_back(std::make_unique<Client>());
		REQUIRE(clients.back()->connect(server.port()));
		REQUIRE(clients.back()->send(
			p2p::ChunkRequest{1, "part.bin", source.content_, 0, static_cast<std::uint32_t>(kSize)}));
		auto head = clients.back()->recv();
		REQUIRE(head);
		REQUIRE(std::holds_alternative<p2p::ChunkData>(*head));
	}
	// Before the fix, libevent aborted here (the group freed with members).
	server.stop();
	CHECK(counters.connections == 4); // wait_for_port's probe, then the three
	CHECK(clients.front()->closed_by_peer());
}
