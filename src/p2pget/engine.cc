// The engine's reactor; see engine.h.
#include "engine.h"

#include "p2p/clock.h"
#include "p2p/log.h"

#include <sodium.h>

#include <algorithm>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <ifaddrs.h>

namespace p2pget {

// How often a running download asks the index for holders it has not met:
// new downloaders of the same file become sources within about this.
static constexpr double kHolderRefresh = 1.0;
// Downloaders started together register moments after each one's first
// lookup, and each has chunks to give within a chunk time or so: in the
// first seconds the index is asked more often.
static constexpr double kEarlyRefresh = 0.2;
static constexpr double kEarlyPeriod = 2.0;

Engine::Engine(EngineOptions options) : options_(std::move(options)), base_(event_base_new())
{
	budget_.free = options_.dup_buffers;
	started_ = now();
	pool_ = std::make_unique<HashPool>(base_.get(), options_.hash_threads, [this](const VerifyResult& r) {
		if (r.download < downloads_.size())
			downloads_[r.download]->on_verified(r);
	});
	tick_.reset(event_new(base_.get(), -1, EV_PERSIST, tick_cb, this));
	refresh_.reset(evtimer_new(base_.get(), refresh_cb, this));
	sigint_.reset(evsignal_new(base_.get(), SIGINT, signal_cb, this));
	sigterm_.reset(evsignal_new(base_.get(), SIGTERM, signal_cb, this));
}

Engine::~Engine()
{
	// Order matters: the index link and the peers' connections use the
	// base, so they go before it (members are freed in reverse order and
	// base_ is declared first).
	index_.reset();
	pool_.reset();
	downloads_.clear();
	tick_.reset();
	refresh_.reset();
	sigint_.reset();
	sigterm_.reset();
	// bufferevents made with BEV_OPT_DEFER_CALLBACKS are finalized by the
	// loop after bufferevent_free; give it one pass so they are really gone.
	event_base_loop(base_.get(), EVLOOP_NONBLOCK);
}

double Engine::now() const { return p2p::precise_now(); }

std::uint64_t Engine::random() const
{
	std::uint64_t seed;
	randombytes_buf(&seed, sizeof seed);
	return seed;
}

void Engine::set_serve_port(std::uint16_t port)
{
	serve_port_ = port;
	own_ips_.clear();
	ifaddrs* list = nullptr;
	if (getifaddrs(&list) != 0)
		return;
	for (ifaddrs* a = list; a; a = a->ifa_next)
		if (a->ifa_addr && (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6))
			own_ips_.push_back(p2p::ip_bytes(a->ifa_addr));
	freeifaddrs(list);
}

void Engine::fetching(Download& d, std::uint32_t chunk)
{
	if (observer_)
		observer_->chunk_fetching(d, chunk);
}

bool Engine::is_self(const p2p::SockAddr& addr) const
{
	if (serve_port_ == 0 || p2p::port_of(addr.get()) != serve_port_)
		return false;
	return std::find(own_ips_.begin(), own_ips_.end(), p2p::ip_bytes(addr.get())) != own_ips_.end();
}

void Engine::note(const char* fmt, ...)
{
	if (!options_.notes)
		return;
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	p2p::print_error("%s", text);
}

std::vector<FileResult> Engine::download(const std::vector<std::string>& names,
                                         std::function<void(const Progress&)> on_progress)
{
	on_progress_ = std::move(on_progress);
	index_ = std::make_unique<IndexLink>(base_.get(), options_.index, options_.timeout, secret());
	std::size_t first = downloads_.size();
	for (auto& name : names) {
		downloads_.push_back(std::make_unique<Download>(*this, downloads_.size(), name));
		unfinished_++;
	}
	refreshing_.resize(downloads_.size());
	// What the index speaks first: partial holders are asked for only
	// where it said it knows them.
	index_->ask(p2p::Stats{}, [this, first](const p2p::Message* reply, const std::string&) {
		if (auto* st = reply ? std::get_if<p2p::StatsReply>(reply) : nullptr)
			for (auto& [key, value] : st->counters)
				if (key == "features")
					index_features_ = value;
		lookup_all(first);
	});
	if (on_progress_) {
		timeval tv = p2p::to_timeval(0.25);
		event_add(tick_.get(), &tv);
	}
	// Only while downloads run: elsewhere a signal ends us as usual.
	event_add(sigint_.get(), nullptr);
	event_add(sigterm_.get(), nullptr);
	if (unfinished_ > 0)
		event_base_dispatch(base_.get());
	event_del(sigint_.get());
	event_del(sigterm_.get());
	event_del(tick_.get());
	event_del(refresh_.get());
	if (on_progress_)
		on_progress_(progress());
	index_->close();
	if (log_enabled(p2p::LogLevel::Info)) {
		std::vector<std::pair<std::string, std::uint64_t>> all(counters_.begin(), counters_.end());
		all.emplace_back("received", received_);
		log_info("counters: %s", p2p::format_counters(all).c_str());
	}
	std::vector<FileResult> results;
	for (std::size_t i = first; i < downloads_.size(); i++)
		results.push_back(downloads_[i]->result());
	return results;
}

void Engine::lookup_all(std::size_t first)
{
	bool holders = index_features_ & p2p::kFeaturePartialHolders;
	for (std::size_t id = first; id < downloads_.size(); id++) {
		const std::string& name = downloads_[id]->name();
		p2p::Message ask = holders ? p2p::Message(p2p::LookupHolders{name}) : p2p::Message(p2p::Lookup{name});
		index_->ask(ask, [this, id](const p2p::Message* reply, const std::string& error) {
			downloads_[id]->on_lookup(reply, error);
		});
	}
	if (holders)
		arm_refresh();
}

void Engine::arm_refresh()
{
	timeval tv = p2p::to_timeval(now() - started_ < kEarlyPeriod ? kEarlyRefresh : kHolderRefresh);
	event_add(refresh_.get(), &tv);
}

void Engine::refresh_cb(evutil_socket_t, short, void* self) { static_cast<Engine*>(self)->refresh_holders(); }

// A failed refresh only means no news: the download goes on with the
// holders it has.
void Engine::refresh_holders()
{
	arm_refresh();
	for (std::size_t id = 0; id < downloads_.size(); id++) {
		if (downloads_[id]->finished() || refreshing_[id])
			continue;
		refreshing_[id] = true;
		index_->ask(p2p::LookupHolders{downloads_[id]->name()}, [this, id](const p2p::Message* reply, const std::string&) {
			refreshing_[id] = false;
			if (auto* hr = reply ? std::get_if<p2p::HoldersReply>(reply) : nullptr)
				downloads_[id]->on_holders(*hr);
		});
	}
}

std::optional<p2p::Message> Engine::ask_index(const p2p::Message& request, std::string& error)
{
	if (!index_)
		index_ = std::make_unique<IndexLink>(base_.get(), options_.index, options_.timeout, secret());
	std::optional<p2p::Message> out;
	bool done = false;
	index_->ask(request, [&](const p2p::Message* reply, const std::string& err) {
		if (reply)
			out = *reply;
		else
			error = err;
		done = true;
		event_base_loopbreak(base_.get());
	});
	while (!done)
		event_base_loop(base_.get(), EVLOOP_ONCE);
	return out;
}

void Engine::finished(Download& d)
{
	const auto& r = d.result();
	count(r.status == FileResult::Status::Ok ? "files_ok" : "files_failed");
	log_info("%s: finished: %s", r.name.c_str(), r.status == FileResult::Status::Ok ? "ok" : r.error.c_str());
	if (--unfinished_ == 0)
		event_base_loopbreak(base_.get());
}

Progress Engine::progress() const
{
	Progress p;
	p.files = downloads_.size();
	p.received = received_;
	p.elapsed = now() - started_;
	for (auto& d : downloads_) {
		if (d->finished())
			p.files_done++;
		else if (p.current.empty())
			p.current = d->name();
		if (d->size_known()) {
			p.total += d->size();
			p.done += d->finished() && d->result().status == FileResult::Status::Ok ? d->size() : d->done_bytes();
		}
		p.peers += d->active_peers();
	}
	return p;
}

// Every unfinished download stops at once, keeping its partial file and
// sidecar, so that running the same command again resumes.
void Engine::signal_cb(evutil_socket_t sig, short, void* self)
{
	auto* e = static_cast<Engine*>(self);
	e->interrupted_by_ = static_cast<int>(sig);
	for (auto& d : e->downloads_)
		if (!d->finished())
			d->interrupt();
}

void Engine::tick_cb(evutil_socket_t, short, void* self) { static_cast<Engine*>(self)->on_tick(); }

void Engine::on_tick()
{
	if (on_progress_)
		on_progress_(progress());
}

} // namespace p2pget
