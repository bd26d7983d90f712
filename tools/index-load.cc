// index-load: a lean load generator for indexd. Registers N peers x M files
// (one connection per peer, announced ports 1..N, names "p<peer>/f<file>"),
// keeps them alive with pings, then runs C concurrent clients doing lookups
// of random registered names, D in flight per client, for a fixed number of
// requests; prints lookups/s, p50/p99 latency and indexd's RSS per file.
// One libevent loop, pre-encoded requests, no allocation per request.
#include "p2p/address.h"
#include "p2p/codec.h"
#include "p2p/ev.h"
#include "p2p/parse-number.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

struct Config {
	std::string host = "127.0.0.1";
	std::uint16_t port = p2p::kIndexPort;
	std::uint16_t split_port = 0; // --split-port: every second lookup client asks this indexd instead
	std::uint64_t peers = 100, files = 100, clients = 50, requests = 200000;
	std::vector<std::uint64_t> depths{1};
	long pid = 0;
	double timeout = 120;
	double ping = 5;
};

std::uint64_t now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& what)
{
	std::fprintf(stderr, "index-load: %s\n", what.c_str());
	std::exit(1);
}

long rss_kib(long pid)
{
	if (pid <= 0)
		return -1;
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(in, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::atol(line.c_str() + 6);
	return -1;
}

int connect_blocking(const p2p::SockAddr& sa)
{
	int fd = ::socket(sa.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ::connect(fd, sa.get(), sa.len) != 0)
		die(std::string("connect: ") + std::strerror(errno));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

void send_all(int fd, const std::vector<std::byte>& b)
{
	std::size_t off = 0;
	while (off < b.size()) {
		ssize_t n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
		if (n <= 0)
			die("send failed");
		off += static_cast<std::size_t>(n);
	}
}

p2p::Message recv_frame(int fd)
{
	std::vector<std::byte> buf(p2p::kHeaderSize);
	auto fill = [&](std::size_t from) {
		for (std::size_t off = from; off < buf.size();) {
			ssize_t n = ::recv(fd, buf.data() + off, buf.size() - off, 0);
			if (n <= 0)
				die("indexd closed a registering connection");
			off += static_cast<std::size_t>(n);
		}
	};
	fill(0);
	p2p::FrameHeader h{};
	if (p2p::check_header(buf, h).status != p2p::DecodeStatus::Ok)
		die("bad frame from indexd");
	buf.resize(p2p::kHeaderSize + h.length);
	fill(p2p::kHeaderSize);
	auto d = p2p::decode(buf);
	if (d.status != p2p::DecodeStatus::Ok)
		die("bad frame from indexd");
	return d.message;
}

std::string file_name(std::uint64_t peer, std::uint64_t file)
{
	return "p" + std::to_string(peer) + "/f" + std::to_string(file);
}

// Registers one peer: REGISTER with a first page, UPDATE pages for the rest.
void register_peer(int fd, std::uint64_t peer, std::uint64_t files)
{
	std::size_t budget = p2p::kMaxPayload - 16;
	p2p::Register reg{static_cast<std::uint16_t>(peer), {}};
	p2p::Update upd;
	std::vector<p2p::FileEntry>* page = &reg.files;
	std::size_t used = 0;
	int frames = 0;
	auto ship = [&] {
		if (page == &reg.files) {
			send_all(fd, p2p::encode(reg));
			page = &upd.added;
		} else {
			send_all(fd, p2p::encode(upd));
			upd.added.clear();
		}
		frames++;
		used = 0;
	};
	for (std::uint64_t f = 0; f < files; f++) {
		p2p::FileEntry e{file_name(peer, f), f * 4096 + peer, {}};
		std::memcpy(e.hash.data(), &peer, sizeof peer);
		std::memcpy(e.hash.data() + 8, &f, sizeof f);
		std::size_t sz = p2p::file_entry_wire_size(e.name.size());
		if (used + sz > budget)
			ship();
		page->push_back(std::move(e));
		used += sz;
	}
	ship();
	for (int i = 0; i < frames; i++) {
		auto m = recv_frame(fd);
		if (!std::holds_alternative<p2p::Ok>(m))
			die("registration of peer " + std::to_string(peer) + " refused: " +
			    (std::holds_alternative<p2p::Error>(m) ? std::get<p2p::Error>(m).text : "unexpected reply"));
	}
}

struct Run;

// One lookup client: keeps `depth` requests in flight until its quota is met.
// Plain recv/send on its socket (no bufferevent: evbuffer_read would ask
// FIONREAD before each read), so the generator stays lean next to indexd.
struct LoadClient {
	Run* run = nullptr;
	std::uint64_t index = 0, quota = 0, sent = 0, received = 0, misses = 0, cursor = 0;
	std::vector<std::uint64_t> stamps; // send times, a ring of `depth`
	std::vector<std::byte> in;         // replies not yet complete
	std::size_t in_len = 0;
	std::vector<std::byte> outq;       // requests the kernel did not take
	evutil_socket_t fd = -1;
	p2p::EventPtr read_ev, write_ev;
	~LoadClient()
	{
		read_ev.reset();
		write_ev.reset();
		if (fd >= 0)
			evutil_closesocket(fd);
	}
};

struct Run {
	const Config* cfg;
	event_base* base;
	const std::vector<std::byte>* pool;       // pre-encoded LOOKUP frames back to back
	const std::vector<std::size_t>* offsets;  // start of each frame in pool (+ end)
	std::uint64_t depth = 1, done = 0, errors = 0;
	std::vector<std::uint32_t> latencies_ns;
	std::vector<std::byte> scratch;
	bool timed_out = false;
};

void send_bytes(LoadClient& c, const std::byte* p, std::size_t len)
{
	if (c.outq.empty()) {
		ssize_t w = ::send(c.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			die("send to indexd failed");
		if (w > 0) {
			p += w;
			len -= static_cast<std::size_t>(w);
		}
	}
	if (len > 0) {
		c.outq.insert(c.outq.end(), p, p + len);
		event_add(c.write_ev.get(), nullptr);
	}
}

void client_writable(evutil_socket_t, short, void* arg)
{
	auto& c = *static_cast<LoadClient*>(arg);
	ssize_t w = ::send(c.fd, c.outq.data(), c.outq.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		die("send to indexd failed");
	if (w > 0)
		c.outq.erase(c.outq.begin(), c.outq.begin() + w);
	if (c.outq.empty())
		event_del(c.write_ev.get());
}

void send_more(LoadClient& c, std::uint64_t n, std::uint64_t t)
{
	Run& r = *c.run;
	r.scratch.clear();
	std::size_t frames = r.offsets->size() - 1;
	for (std::uint64_t i = 0; i < n && c.sent < c.quota; i++) {
		std::size_t k = (c.cursor++) % frames;
		auto from = r.pool->begin() + static_cast<std::ptrdiff_t>((*r.offsets)[k]);
		auto to = r.pool->begin() + static_cast<std::ptrdiff_t>((*r.offsets)[k + 1]);
		r.scratch.insert(r.scratch.end(), from, to);
		c.stamps[c.sent % r.depth] = t;
		c.sent++;
	}
	if (!r.scratch.empty())
		send_bytes(c, r.scratch.data(), r.scratch.size());
}

std::size_t be32(const std::byte* p)
{
	return std::to_integer<std::size_t>(p[0]) << 24 | std::to_integer<std::size_t>(p[1]) << 16 |
	       std::to_integer<std::size_t>(p[2]) << 8 | std::to_integer<std::size_t>(p[3]);
}

void client_readable(evutil_socket_t, short, void* arg)
{
	auto& c = *static_cast<LoadClient*>(arg);
	Run& r = *c.run;
	if (c.in_len == c.in.size())
		c.in.resize(c.in.size() * 2); // a reply larger than the buffer
	ssize_t n = ::recv(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len, 0);
	if (n == 0)
		die("indexd closed client " + std::to_string(c.index));
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		die("recv from indexd failed");
	}
	c.in_len += static_cast<std::size_t>(n);
	std::uint64_t t = now_ns(), got = 0;
	std::size_t pos = 0;
	while (c.in_len - pos >= p2p::kHeaderSize) {
		const std::byte* f = c.in.data() + pos;
		std::size_t len = be32(f + 4);
		if (c.in_len - pos < p2p::kHeaderSize + len)
			break;
		if (std::to_integer<std::uint8_t>(f[3]) != static_cast<std::uint8_t>(p2p::MsgType::LookupReply)) {
			r.errors++;
		} else {
			// The peer count follows the name.
			std::size_t name_len = std::to_integer<std::size_t>(f[8]) << 8 | std::to_integer<std::size_t>(f[9]);
			if (2 + name_len + 4 <= len && be32(f + p2p::kHeaderSize + 2 + name_len) == 0)
				c.misses++;
		}
		pos += p2p::kHeaderSize + len;
		r.latencies_ns.push_back(
			static_cast<std::uint32_t>(std::min<std::uint64_t>(t - c.stamps[c.received % r.depth], UINT32_MAX)));
		c.received++;
		got++;
	}
	if (pos > 0) {
		std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
		c.in_len -= pos;
	}
	if (got)
		send_more(c, got, now_ns());
	if (c.received == c.quota && got) {
		if (++r.done == r.cfg->clients)
			event_base_loopbreak(r.base);
	}
}

double percentile_us(std::vector<std::uint32_t>& v, double p)
{
	if (v.empty())
		return 0;
	std::size_t k = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
	std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
	return v[k] / 1000.0;
}

void parse_args(int argc, char** argv, Config& cfg)
{
	auto num = [&](int& i, std::uint64_t max = UINT64_MAX) {
		if (i + 1 >= argc)
			die(std::string(argv[i]) + " needs a value");
		auto v = p2p::parse_u64(argv[++i], max);
		if (!v)
			die(std::string("bad number for ") + argv[i - 1]);
		return *v;
	};
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a == "-p") cfg.port = static_cast<std::uint16_t>(num(i, 65535));
		else if (a == "-H" && i + 1 < argc) cfg.host = argv[++i];
		else if (a == "--split-port") cfg.split_port = static_cast<std::uint16_t>(num(i, 65535));
		else if (a == "--peers") cfg.peers = num(i, 65535);
		else if (a == "--files") cfg.files = num(i);
		else if (a == "--clients") cfg.clients = std::max<std::uint64_t>(1, num(i, 100000));
		else if (a == "--requests") cfg.requests = num(i);
		else if (a == "--pid") cfg.pid = static_cast<long>(num(i));
		else if (a == "--timeout") cfg.timeout = static_cast<double>(num(i));
		else if (a == "--depth" && i + 1 < argc) {
			cfg.depths.clear();
			std::string list = argv[++i];
			for (std::size_t s = 0; s <= list.size();) {
				std::size_t e = std::min(list.find(',', s), list.size());
				auto d = p2p::parse_u64(list.substr(s, e - s), 4096);
				if (!d || *d == 0)
					die("bad --depth");
				cfg.depths.push_back(*d);
				s = e + 1;
			}
		} else {
			std::fprintf(stderr,
			             "usage: index-load [-H HOST] [-p PORT] [--peers N] [--files M] [--clients C]\n"
			             "                  [--requests R] [--depth D[,D...]] [--pid INDEXD_PID] [--timeout S]\n"
			             "                  [--split-port PORT]\n");
			std::exit(a == "-h" ? 0 : 2);
		}
	}
}

} // namespace

int main(int argc, char** argv)
{
	Config cfg;
	parse_args(argc, argv, cfg);
	std::string why;
	auto sa = p2p::resolve({cfg.host, cfg.port}, &why);
	if (!sa)
		die("cannot resolve " + cfg.host + ": " + why);
	// Two indexd on one store: the peers register at the first, the lookup
	// clients are split between both.
	auto split = cfg.split_port ? p2p::resolve({cfg.host, cfg.split_port}, &why) : sa;
	if (!split)
		die("cannot resolve " + cfg.host + ": " + why);
	p2p::EventBasePtr base(event_base_new());

	// 1. Registration, one blocking connection per peer, kept open.
	long rss_before = rss_kib(cfg.pid);
	std::uint64_t t0 = now_ns();
	std::vector<p2p::BufferEventPtr> peers;
	for (std::uint64_t p = 1; p <= cfg.peers; p++) {
		int fd = connect_blocking(*sa);
		register_peer(fd, p, cfg.files);
		evutil_make_socket_nonblocking(fd);
		peers.emplace_back(bufferevent_socket_new(base.get(), fd, BEV_OPT_CLOSE_ON_FREE));
		// Pongs are read and dropped.
		bufferevent_setcb(peers.back().get(), [](bufferevent* b, void*) { evbuffer_drain(bufferevent_get_input(b), SIZE_MAX); },
		                  nullptr, nullptr, nullptr);
		bufferevent_enable(peers.back().get(), EV_READ);
	}
	double reg_s = static_cast<double>(now_ns() - t0) / 1e9;
	std::uint64_t total_files = cfg.peers * cfg.files;
	long rss = rss_kib(cfg.pid);
	std::printf("REGISTER peers=%llu files=%llu seconds=%.2f files_per_s=%.0f rss_before_kib=%ld rss_kib=%ld "
	            "rss_bytes_per_file=%.1f\n",
	            static_cast<unsigned long long>(cfg.peers), static_cast<unsigned long long>(total_files), reg_s,
	            static_cast<double>(total_files) / std::max(reg_s, 1e-9), rss_before, rss,
	            total_files && rss > 0 ? static_cast<double>(rss) * 1024.0 / static_cast<double>(total_files) : 0.0);
	std::fflush(stdout);

	// Keep the peers alive however long the lookups take.
	auto ping_all = [](evutil_socket_t, short, void* arg) {
		auto* list = static_cast<std::vector<p2p::BufferEventPtr>*>(arg);
		auto frame = p2p::encode(p2p::Ping{7});
		for (auto& b : *list)
			bufferevent_write(b.get(), frame.data(), frame.size());
	};
	p2p::EventPtr pinger(event_new(base.get(), -1, EV_PERSIST, ping_all, &peers));
	timeval ping_tv = p2p::to_timeval(cfg.ping);
	event_add(pinger.get(), &ping_tv);

	// 2. A pool of LOOKUP frames for random registered names.
	std::mt19937_64 rng(42);
	std::vector<std::byte> pool;
	std::vector<std::size_t> offsets{0};
	std::size_t pool_size = static_cast<std::size_t>(std::min<std::uint64_t>(cfg.requests, 1u << 17));
	for (std::size_t i = 0; i < std::max<std::size_t>(pool_size, 1); i++) {
		std::uint64_t p = cfg.peers ? 1 + rng() % cfg.peers : 1, f = cfg.files ? rng() % cfg.files : 0;
		p2p::encode(p2p::Lookup{file_name(p, f)}, pool);
		offsets.push_back(pool.size());
	}

	int status = 0;
	for (std::uint64_t depth : cfg.depths) {
		Run run;
		run.cfg = &cfg;
		run.base = base.get();
		run.pool = &pool;
		run.offsets = &offsets;
		run.depth = depth;
		run.latencies_ns.reserve(cfg.requests);
		std::vector<std::unique_ptr<LoadClient>> clients;
		for (std::uint64_t i = 0; i < cfg.clients; i++) {
			auto c = std::make_unique<LoadClient>();
			c->run = &run;
			c->index = i;
			c->quota = cfg.requests / cfg.clients + (i < cfg.requests % cfg.clients ? 1 : 0);
			c->cursor = i * 7919;
			c->stamps.resize(depth);
			c->fd = connect_blocking(i % 2 ? *split : *sa);
			evutil_make_socket_nonblocking(c->fd);
			c->in.resize(64 << 10);
			c->read_ev.reset(event_new(base.get(), c->fd, EV_READ | EV_PERSIST, client_readable, c.get()));
			c->write_ev.reset(event_new(base.get(), c->fd, EV_WRITE | EV_PERSIST, client_writable, c.get()));
			event_add(c->read_ev.get(), nullptr);
			if (c->quota == 0)
				run.done++;
			clients.push_back(std::move(c));
		}
		p2p::EventPtr deadline(evtimer_new(
			base.get(),
			[](evutil_socket_t, short, void* arg) {
				auto* r = static_cast<Run*>(arg);
				r->timed_out = true;
				event_base_loopbreak(r->base);
			},
			&run));
		timeval tv = p2p::to_timeval(cfg.timeout);
		evtimer_add(deadline.get(), &tv);
		std::uint64_t start = now_ns();
		for (auto& c : clients)
			send_more(*c, depth, now_ns());
		if (run.done < cfg.clients)
			event_base_dispatch(base.get());
		double secs = static_cast<double>(now_ns() - start) / 1e9;
		std::uint64_t answered = run.latencies_ns.size(), misses = 0;
		for (auto& c : clients)
			misses += c->misses;
		double p50 = percentile_us(run.latencies_ns, 0.50), p99 = percentile_us(run.latencies_ns, 0.99),
		       p999 = percentile_us(run.latencies_ns, 0.999);
		long rss_now = rss_kib(cfg.pid);
		std::printf("RESULT depth=%llu clients=%llu requests=%llu seconds=%.3f lookups_per_s=%.0f p50_us=%.1f "
		            "p99_us=%.1f p999_us=%.1f misses=%llu errors=%llu timed_out=%d rss_kib=%ld "
		            "rss_bytes_per_file=%.1f\n",
		            static_cast<unsigned long long>(depth), static_cast<unsigned long long>(cfg.clients),
		            static_cast<unsigned long long>(answered), secs, static_cast<double>(answered) / secs, p50, p99,
		            p999, static_cast<unsigned long long>(misses), static_cast<unsigned long long>(run.errors),
		            run.timed_out ? 1 : 0, rss_now,
		            total_files && rss_now > 0 ? static_cast<double>(rss_now) * 1024.0 / static_cast<double>(total_files)
		                                       : 0.0);
		std::fflush(stdout);
		if (run.timed_out || run.errors || (cfg.files && misses))
			status = 1;
	}
	return status;
}
