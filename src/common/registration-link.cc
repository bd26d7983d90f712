// Index control connection: states are connecting -> connected (HELLO
// sent) -> challenged (IDENTIFY and REGISTER sent) -> registered (Ok
// received); any close goes back to a retry timer.
#include "p2p/registration-link.h"

#include "p2p/log.h"

#include <algorithm>

namespace p2p {

// The index drops a holder it has not heard from for TTL seconds (30 by
// default). It states its TTL as "ttl_ms" in STATS and we ping every TTL/3;
// until it has said, and at most, every 5 s.
inline constexpr double kPingInterval = 5.0;
inline constexpr double kMinPingInterval = 0.01;
// No frame at all from the index for this long: the connection is dead.
inline constexpr double kIndexSilence = 3 * kPingInterval;
inline constexpr double kConnectTimeout = 5.0;
inline constexpr double kFirstBackoff = 0.1;
inline constexpr double kMaxBackoff = 2.0;
// Changes within this window go out as one update.
inline constexpr double kFlushDelay = 0.1;
// How long shutdown waits for the index to acknowledge Unregister.
inline constexpr double kByeWait = 1.0;

RegistrationLink::RegistrationLink(event_base* base, std::vector<SockAddr> indexes, std::uint16_t port,
                                   Holdings& holdings, LinkCounters& counters, const Identity& identity,
                                   const SecretKey* secret)
	: base_(base), indexes_(std::move(indexes)), port_(port), holdings_(holdings), counters_(counters),
	  identity_(identity), retry_ev_(evtimer_new(base, retry_cb, this)),
	  ping_ev_(event_new(base, -1, EV_PERSIST, ping_cb, this)), flush_ev_(evtimer_new(base, flush_cb, this)),
	  bye_ev_(evtimer_new(base, bye_cb, this)), reaper_(base)
{
	if (secret)
		secret_ = *secret;
	index_name_ = format_endpoint(indexes_.at(0).get());
}

RegistrationLink::~RegistrationLink() = default;

void RegistrationLink::start() { connect(); }

void RegistrationLink::connect()
{
	if (stopping_)
		return;
	connected_ = registered_ = challenged_ = features_known_ = false;
	features_ = 0;
	const SockAddr& index = indexes_[current_];
	index_name_ = format_endpoint(index.get());
	conn_ = std::make_unique<FramedConn>(base_, index.get(), static_cast<int>(index.len),
	                                     FramedConn::Callbacks{
						     .on_message = [this](Message& m) { on_message(m); },
						     .on_raw = nullptr,
						     .on_drained = nullptr,
						     .on_close = [this](const std::string& reason) { on_close(reason); },
						     .on_connected = [this] { on_connected(); },
					     });
	if (secret_)
		conn_->set_secret(*secret_);
	if (conn_->bev()) {
		// An index behind a black hole would otherwise hold us in connect
		// for minutes; the retry timer takes over after this.
		timeval tv = to_timeval(kConnectTimeout);
		bufferevent_set_timeouts(conn_->bev(), &tv, &tv);
	}
}

void RegistrationLink::on_connected()
{
	connected_ = true;
	counters_.index_connects++;
	bufferevent_set_timeouts(conn_->bev(), nullptr, nullptr);
	conn_->set_idle_timeout(kIndexSilence);
	// The index answers with a nonce; we sign the Register with it.
	conn_->send(Hello{});
	schedule_pings(kPingInterval);
}

void RegistrationLink::on_challenge(const Challenge& ch)
{
	if (challenged_) {
		log_debug("index %s: ignoring a second challenge", index_name_.c_str());
		return;
	}
	challenged_ = true;
	Register reg;
	std::vector<Message> rest;
	holdings_.full_pages(port_, reg, rest);
	// The full list supersedes any change queued while we were away.
	holdings_.clear_changes();
	held_.clear();
	// IDENTIFY must be followed at once by the very Register it signs.
	conn_->send(Identify{identity_.public_key(), identity_.sign_registration(ch.nonce, reg)});
	conn_->send(reg);
	for (auto& page : rest)
		send_or_hold(std::move(page), false);
	log_info("%s index %s: registering port %u with %zu files", ever_connected_ ? "reconnected to" : "connected to",
	         index_name_.c_str(), port_, holdings_.size());
	ever_connected_ = true;
}

void RegistrationLink::on_message(Message& msg)
{
	if (auto* ok = std::get_if<Ok>(&msg)) {
		on_ok(*ok);
	} else if (auto* err = std::get_if<Error>(&msg)) {
		on_error(*err);
	} else if (stopping_) {
		// Nothing may follow the Unregister: a late CHALLENGE or STATS
		// reply would send a REGISTER, or the updates held for features.
	} else if (auto* ch = std::get_if<Challenge>(&msg)) {
		on_challenge(*ch);
	} else if (auto* stats = std::get_if<StatsReply>(&msg)) {
		on_stats(*stats);
	} else if (std::holds_alternative<Pong>(msg)) {
		// Any frame resets the silence timer; nothing else to do.
	} else if (auto* ping = std::get_if<Ping>(&msg)) {
		conn_->send(Pong{ping->token});
	} else {
		log_debug("index %s: ignoring %s", index_name_.c_str(), msg_type_name(type_of(msg)));
	}
}

void RegistrationLink::on_ok(const Ok& ok)
{
	if (ok.of == MsgType::Register) {
		registered_ = true;
		// Only a registration ends an outage: an index that accepts the
		// connection and then refuses us must not be retried in a loop.
		said_unreachable_ = false;
		backoff_ = 0;
		counters_.index_registers++;
		log_debug("index %s: registered", index_name_.c_str());
		conn_->send(Stats{}); // for its TTL and features
	} else if (ok.of == MsgType::Unregister && stopping_) {
		log_info("index %s: unregistered", index_name_.c_str());
		finish_unregister();
	}
}

void RegistrationLink::on_error(const Error& err)
{
	counters_.index_errors++;
	// A refusal repeated on every retry is said once at warn.
	if (said_unreachable_)
		log_debug("index %s: error %s: %s", index_name_.c_str(), error_code_name(err.code), err.text.c_str());
	else
		log_warn("index %s: error %s: %s", index_name_.c_str(), error_code_name(err.code), err.text.c_str());
	switch (err.code) {
	case ErrorCode::AddressInUse:
	case ErrorCode::BadSignature:
	case ErrorCode::BadAuth:
		counters_.index_refused++;
		[[fallthrough]];
	case ErrorCode::NotRegistered:
		conn_->close("index refused us: " + err.text); // start over (with backoff)
		break;
	default:
		// An index that cannot answer HELLO would leave us connected
		// and never registered: start over instead.
		if (!challenged_)
			conn_->close("index did not answer HELLO: " + err.text);
		break;
	}
}

void RegistrationLink::on_stats(const StatsReply& stats)
{
	std::uint64_t features = 0;
	for (auto& [key, value] : stats.counters) {
		if (key == "ttl_ms" && value > 0) {
			double ttl = static_cast<double>(value) / 1000;
			double every = std::clamp(ttl / 3, kMinPingInterval, kPingInterval);
			schedule_pings(every);
			log_debug("index %s: TTL %g s, pinging every %g s", index_name_.c_str(), ttl, every);
		} else if (key == "features") {
			features = value;
		}
	}
	if (features_known_)
		return;
	features_known_ = true;
	features_ = features;
	holdings_.index_features_known(features_);
	send_held();
}

// Frames that need a feature wait until the index has stated its own.
// `count`: an update (not a page of the registration) for index_updates.
void RegistrationLink::send_or_hold(Message msg, bool count)
{
	std::uint64_t needed = holdings_.features_needed(msg);
	if (needed != 0 && !features_known_) {
		held_.push_back(std::move(msg));
	} else if ((features_ & needed) == needed) {
		conn_->send(msg);
		counters_.index_updates += count ? 1 : 0;
	} else {
		log_debug("index %s: lacks feature %#llx; not sending %s", index_name_.c_str(),
		          static_cast<unsigned long long>(needed), msg_type_name(type_of(msg)));
	}
}

void RegistrationLink::send_held()
{
	auto held = std::move(held_);
	held_.clear();
	for (auto& msg : held)
		send_or_hold(std::move(msg), true);
}

void RegistrationLink::on_close(const std::string& reason)
{
	bool was_registered = registered_;
	if (conn_ && conn_->refused_with() == ErrorCode::BadAuth)
		counters_.index_refused++; // its frames fail our MAC check
	connected_ = registered_ = challenged_ = false;
	held_.clear();
	event_del(ping_ev_.get());
	// The FramedConn is on the stack now: free it on the next turn.
	reaper_.bury(std::move(conn_));
	if (stopping_) {
		finish_unregister();
		return;
	}
	// Several indexes: the next one in turn, by the same backoff (at most
	// 2 s), so a lost index is replaced within 2 s and comes back in turn.
	current_ = (current_ + 1) % indexes_.size();
	log_close(was_registered, reason);
	said_unreachable_ = true;
	retry_later();
}

void RegistrationLink::log_close(bool was_registered, const std::string& reason)
{
	std::string next = indexes_.size() > 1 ? "moving to " + format_endpoint(indexes_[current_].get()) : "";
	if (was_registered) {
		log_warn("lost the index %s: %s; %s", index_name_.c_str(), reason.c_str(),
		         next.empty() ? "reconnecting" : next.c_str());
	} else if (!said_unreachable_) {
		// Once per outage at warn; every further try only at debug.
		log_warn("cannot register with the index %s: %s; %s (serving meanwhile)", index_name_.c_str(),
		         reason.c_str(), next.empty() ? "retrying" : next.c_str());
	} else {
		log_debug("index %s: %s", index_name_.c_str(), reason.c_str());
	}
}

void RegistrationLink::retry_later()
{
	backoff_ = backoff_ == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
	timeval tv = to_timeval(backoff_);
	evtimer_add(retry_ev_.get(), &tv);
}

void RegistrationLink::schedule_pings(double interval)
{
	timeval tv = to_timeval(interval);
	event_add(ping_ev_.get(), &tv);
}

void RegistrationLink::changed()
{
	if (!evtimer_pending(flush_ev_.get(), nullptr)) {
		timeval tv = to_timeval(kFlushDelay);
		evtimer_add(flush_ev_.get(), &tv);
	}
}

void RegistrationLink::flush()
{
	// While away, changes wait: the next Register carries the whole table.
	// Until the Register is sent (HELLO still unanswered) an update would
	// come before it, and IDENTIFY must be followed by REGISTER alone.
	if (!connected_ || !challenged_ || stopping_ || !holdings_.has_changes())
		return;
	for (auto& page : holdings_.take_updates()) {
		if (auto* u = std::get_if<Update>(&page))
			log_debug("index %s: update +%zu -%zu", index_name_.c_str(), u->added.size(), u->removed.size());
		send_or_hold(std::move(page), true);
	}
}

void RegistrationLink::unregister(std::function<void()> done)
{
	stopping_ = true;
	bye_done_ = std::move(done);
	evtimer_del(retry_ev_.get());
	evtimer_del(flush_ev_.get());
	event_del(ping_ev_.get());
	if (!connected_ || !conn_) {
		finish_unregister();
		return;
	}
	conn_->send(Unregister{});
	timeval tv = to_timeval(kByeWait);
	evtimer_add(bye_ev_.get(), &tv);
}

void RegistrationLink::finish_unregister()
{
	evtimer_del(bye_ev_.get());
	if (auto done = std::move(bye_done_)) {
		bye_done_ = nullptr;
		done();
	}
}

void RegistrationLink::retry_cb(evutil_socket_t, short, void* self)
{
	static_cast<RegistrationLink*>(self)->connect();
}

void RegistrationLink::ping_cb(evutil_socket_t, short, void* self)
{
	auto* l = static_cast<RegistrationLink*>(self);
	if (l->connected_ && l->conn_)
		l->conn_->send(Ping{++l->ping_token_});
}

void RegistrationLink::flush_cb(evutil_socket_t, short, void* self)
{
	static_cast<RegistrationLink*>(self)->flush();
}

void RegistrationLink::bye_cb(evutil_socket_t, short, void* self)
{
	auto* l = static_cast<RegistrationLink*>(self);
	log_warn("index %s: no answer to unregister; leaving anyway", l->index_name_.c_str());
	l->finish_unregister();
}

} // namespace p2p
