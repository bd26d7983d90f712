// Index control connection: states are connecting -> connected (HELLO
// sent) -> challenged (IDENTIFY and REGISTER sent) -> registered (Ok
// received); any close goes back to a retry timer.
#include "index-link.h"

#include "p2p/log.h"

#include <algorithm>

namespace peerd {

// The index drops a peer it has not heard from for TTL seconds (30 by
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

IndexLink::IndexLink(event_base* base, p2p::SockAddr index, std::uint16_t port, ShareTable& table,
                     Counters& counters, const p2p::Identity& identity, const p2p::SecretKey* secret)
	: base_(base), index_(index), index_name_(p2p::format_endpoint(index.get())), port_(port), table_(table),
	  counters_(counters), identity_(identity), retry_ev_(evtimer_new(base, retry_cb, this)),
	  ping_ev_(event_new(base, -1, EV_PERSIST, ping_cb, this)), flush_ev_(evtimer_new(base, flush_cb, this)),
	  bye_ev_(evtimer_new(base, bye_cb, this)), reaper_(base)
{
	if (secret)
		secret_ = *secret;
}

IndexLink::~IndexLink() = default;

void IndexLink::start() { connect(); }

void IndexLink::connect()
{
	if (stopping_)
		return;
	connected_ = registered_ = challenged_ = false;
	conn_ = std::make_unique<p2p::FramedConn>(
		base_, index_.get(), static_cast<int>(index_.len),
		p2p::FramedConn::Callbacks{
			.on_message = [this](p2p::Message& m) { on_message(m); },
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
		timeval tv = p2p::to_timeval(kConnectTimeout);
		bufferevent_set_timeouts(conn_->bev(), &tv, &tv);
	}
}

void IndexLink::on_connected()
{
	connected_ = true;
	counters_.index_connects++;
	bufferevent_set_timeouts(conn_->bev(), nullptr, nullptr);
	conn_->set_idle_timeout(kIndexSilence);
	// The index answers with a nonce; we sign the Register with it.
	conn_->send(p2p::Hello{});
	schedule_pings(kPingInterval);
}

void IndexLink::on_challenge(const p2p::Challenge& ch)
{
	if (challenged_) {
		log_debug("index %s: ignoring a second challenge", index_name_.c_str());
		return;
	}
	challenged_ = true;
	p2p::Register reg;
	std::vector<p2p::Update> rest;
	table_.full_pages(port_, reg, rest);
	// The full list supersedes any change queued while we were away.
	table_.clear_changes();
	// IDENTIFY must be followed at once by the very Register it signs.
	conn_->send(p2p::Identify{identity_.public_key(), identity_.sign_registration(ch.nonce, reg)});
	conn_->send(reg);
	for (auto& page : rest)
		conn_->send(page);
	log_info("%s index %s: registering port %u with %zu files", ever_connected_ ? "reconnected to" : "connected to",
	         index_name_.c_str(), port_, table_.size());
	ever_connected_ = true;
}

void IndexLink::on_message(p2p::Message& msg)
{
	if (auto* ok = std::get_if<p2p::Ok>(&msg)) {
		if (ok->of == p2p::MsgType::Register) {
			registered_ = true;
			// Only a registration ends an outage: an index that accepts the
			// connection and then refuses us must not be retried in a loop.
			said_unreachable_ = false;
			backoff_ = 0;
			counters_.index_registers++;
			log_debug("index %s: registered", index_name_.c_str());
			conn_->send(p2p::Stats{}); // for its TTL
		} else if (ok->of == p2p::MsgType::Unregister && stopping_) {
			log_info("index %s: unregistered", index_name_.c_str());
			finish_unregister();
		}
	} else if (auto* err = std::get_if<p2p::Error>(&msg)) {
		counters_.index_errors++;
		// A refusal repeated on every retry is said once at warn.
		if (said_unreachable_)
			log_debug("index %s: error %s: %s", index_name_.c_str(), p2p::error_code_name(err->code),
			          err->text.c_str());
		else
			log_warn("index %s: error %s: %s", index_name_.c_str(), p2p::error_code_name(err->code),
			         err->text.c_str());
		switch (err->code) {
		case p2p::ErrorCode::AddressInUse:
		case p2p::ErrorCode::BadSignature:
		case p2p::ErrorCode::BadAuth:
			counters_.index_refused++;
			[[fallthrough]];
		case p2p::ErrorCode::NotRegistered:
			conn_->close("index refused us: " + err->text); // start over (with backoff)
			break;
		default:
			// An index that cannot answer HELLO would leave us connected
			// and never registered: start over instead.
			if (!challenged_)
				conn_->close("index did not answer HELLO: " + err->text);
			break;
		}
	} else if (auto* ch = std::get_if<p2p::Challenge>(&msg)) {
		on_challenge(*ch);
	} else if (auto* stats = std::get_if<p2p::StatsReply>(&msg)) {
		for (auto& [key, value] : stats->counters)
			if (key == "ttl_ms" && value > 0) {
				double ttl = static_cast<double>(value) / 1000;
				double every = std::clamp(ttl / 3, kMinPingInterval, kPingInterval);
				schedule_pings(every);
				log_debug("index %s: TTL %g s, pinging every %g s", index_name_.c_str(), ttl, every);
			}
	} else if (std::holds_alternative<p2p::Pong>(msg)) {
		// Any frame resets the silence timer; nothing else to do.
	} else if (auto* ping = std::get_if<p2p::Ping>(&msg)) {
		conn_->send(p2p::Pong{ping->token});
	} else {
		log_debug("index %s: ignoring %s", index_name_.c_str(), p2p::msg_type_name(p2p::type_of(msg)));
	}
}

void IndexLink::on_close(const std::string& reason)
{
	bool was_registered = registered_;
	if (conn_ && conn_->refused_with() == p2p::ErrorCode::BadAuth)
		counters_.index_refused++; // its frames fail our MAC check
	connected_ = registered_ = challenged_ = false;
	event_del(ping_ev_.get());
	// The FramedConn is on the stack now: free it on the next turn.
	reaper_.bury(std::move(conn_));
	if (stopping_) {
		finish_unregister();
		return;
	}
	if (was_registered) {
		log_warn("lost the index %s: %s; reconnecting", index_name_.c_str(), reason.c_str());
	} else if (!said_unreachable_) {
		// Once per outage at warn; every further try only at debug.
		log_warn("cannot register with the index %s: %s; retrying (serving meanwhile)", index_name_.c_str(),
		         reason.c_str());
	} else {
		log_debug("index %s: %s", index_name_.c_str(), reason.c_str());
	}
	said_unreachable_ = true;
	retry_later();
}

void IndexLink::retry_later()
{
	backoff_ = backoff_ == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
	timeval tv = p2p::to_timeval(backoff_);
	evtimer_add(retry_ev_.get(), &tv);
}

void IndexLink::schedule_pings(double interval)
{
	timeval tv = p2p::to_timeval(interval);
	event_add(ping_ev_.get(), &tv);
}

void IndexLink::changed()
{
	if (!evtimer_pending(flush_ev_.get(), nullptr)) {
		timeval tv = p2p::to_timeval(kFlushDelay);
		evtimer_add(flush_ev_.get(), &tv);
	}
}

void IndexLink::flush()
{
	// While away, changes wait: the next Register carries the whole table.
	// Until the Register is sent (HELLO still unanswered) an update would
	// come before it, and IDENTIFY must be followed by REGISTER alone.
	if (!connected_ || !challenged_ || stopping_ || !table_.has_changes())
		return;
	auto pages = table_.take_updates();
	for (auto& page : pages) {
		log_debug("index %s: update +%zu -%zu", index_name_.c_str(), page.added.size(), page.removed.size());
		conn_->send(page);
		counters_.index_updates++;
	}
}

void IndexLink::unregister(std::function<void()> done)
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
	conn_->send(p2p::Unregister{});
	timeval tv = p2p::to_timeval(kByeWait);
	evtimer_add(bye_ev_.get(), &tv);
}

void IndexLink::finish_unregister()
{
	evtimer_del(bye_ev_.get());
	if (auto done = std::move(bye_done_)) {
		bye_done_ = nullptr;
		done();
	}
}

void IndexLink::retry_cb(evutil_socket_t, short, void* self) { static_cast<IndexLink*>(self)->connect(); }

void IndexLink::ping_cb(evutil_socket_t, short, void* self)
{
	auto* l = static_cast<IndexLink*>(self);
	if (l->connected_ && l->conn_)
		l->conn_->send(p2p::Ping{++l->ping_token_});
}

void IndexLink::flush_cb(evutil_socket_t, short, void* self) { static_cast<IndexLink*>(self)->flush(); }

void IndexLink::bye_cb(evutil_socket_t, short, void* self)
{
	auto* l = static_cast<IndexLink*>(self);
	log_warn("index %s: no answer to unregister; leaving anyway", l->index_name_.c_str());
	l->finish_unregister();
}


} // namespace peerd
