// The seeding loop; see serve-seed.h.
#include "serve-seed.h"

#include "p2p/clock.h"
#include "p2p/log.h"

#include <algorithm>
#include <csignal>

namespace p2pget {

namespace {

// Lookups while seeding are small and local: no need to wait long.
constexpr double kLookupTimeout = 3.0;

} // namespace

SeedRun::SeedRun(event_base* base, serve::ChunkServer& server, const serve::Counters& counters,
                 const std::vector<SeededFile>& files, const ServeConfig& config)
	: base_(base), server_(server), counters_(counters), files_(files), config_(config),
	  index_(base, config.indexes, std::min(config.timeout, kLookupTimeout), config.secret ? &*config.secret : nullptr)
{
	tick_.reset(event_new(base, -1, EV_PERSIST, tick_cb, this));
	sigint_.reset(evsignal_new(base, SIGINT, signal_cb, this));
	sigterm_.reset(evsignal_new(base, SIGTERM, signal_cb, this));
}

SeedRun::~SeedRun()
{
	event_del(tick_.get());
	event_del(sigint_.get());
	event_del(sigterm_.get());
}

int SeedRun::run(double done_at)
{
	policy_.emplace(config_.seed_time, done_at);
	last_bytes_ = counters_.bytes_served;
	if (server_.busy())
		policy_->served(done_at);
	next_ask_ = done_at;
	ask_round();
	timeval every = p2p::to_timeval(kTick);
	event_add(tick_.get(), &every);
	event_add(sigint_.get(), nullptr);
	event_add(sigterm_.get(), nullptr);
	event_base_dispatch(base_);
	index_.close();
	return signal_;
}

void SeedRun::tick_cb(evutil_socket_t, short, void* self) { static_cast<SeedRun*>(self)->on_tick(); }

void SeedRun::signal_cb(evutil_socket_t sig, short, void* self)
{
	auto* s = static_cast<SeedRun*>(self);
	s->signal_ = static_cast<int>(sig);
	log_info("seeding stopped by signal %d", s->signal_);
	event_base_loopbreak(s->base_);
}

void SeedRun::on_tick()
{
	double now = p2p::precise_now();
	if (counters_.bytes_served != last_bytes_ || server_.busy()) {
		last_bytes_ = counters_.bytes_served;
		policy_->served(now);
	}
	if (pending_ == 0 && now >= next_ask_)
		ask_round();
	if (!stopped_ && !policy_->keep(now)) {
		stopped_ = true;
		log_info("seeding over: %s", policy_->why(now).c_str());
		event_base_loopbreak(base_);
	}
}

// LOOKUP_HOLDERS of the next few files; the round's verdict is whether
// any answer lists another partial holder.
void SeedRun::ask_round()
{
	next_ask_ = p2p::precise_now() + SeedPolicy::kAskEvery;
	round_found_ = false;
	std::size_t n = std::min(kAskPerRound, files_.size());
	pending_ = n;
	for (std::size_t i = 0; i < n; i++) {
		std::size_t file = next_file_;
		next_file_ = (next_file_ + 1) % files_.size();
		index_.ask(p2p::LookupHolders{files_[file].name},
		           [this, file](const p2p::Message* reply, const std::string&) { on_holders(reply, file); });
	}
}

void SeedRun::on_holders(const p2p::Message* reply, std::size_t file)
{
	const SeededFile& f = files_[file];
	if (auto* hr = reply ? std::get_if<p2p::HoldersReply>(reply) : nullptr)
		round_found_ = round_found_ || others_partial(*hr, f.size, f.hash, config_.is_self);
	if (pending_ > 0 && --pending_ == 0) {
		policy_->holders(round_found_);
		on_tick(); // a lone download stops on the answer, not a tick later
	}
}

} // namespace p2pget
