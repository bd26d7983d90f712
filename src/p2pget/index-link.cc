// The index connection; see index-link.h.
#include "index-link.h"

#include "p2p/log.h"

namespace p2pget {

IndexLink::IndexLink(event_base* base, const std::vector<p2p::HostPort>& indexes, double timeout,
                     const p2p::SecretKey* secret)
	: base_(base), indexes_(indexes), timeout_(timeout), fail_late_(base, [this] { fail_late(); }), reaper_(base)
{
	if (secret)
		secret_ = *secret;
	timer_.reset(evtimer_new(base, timer_cb, this));
	connect_next();
}

IndexLink::~IndexLink() = default;

// The next index that resolves, or the end: every pending request fails.
void IndexLink::connect_next()
{
	while (next_ < indexes_.size()) {
		const p2p::HostPort& index = indexes_[next_++];
		if (try_connect(index))
			return;
		if (next_ < indexes_.size())
			log_warn("%s; asking %s:%u", dead_reason_.c_str(), indexes_[next_].host.c_str(), indexes_[next_].port);
	}
	dead_ = true;
	fail_all(dead_reason_);
}

bool IndexLink::try_connect(const p2p::HostPort& index)
{
	label_ = index.host + ":" + std::to_string(index.port);
	connected_ = refused_ = not_index_ = false;
	sent_ = 0;
	std::string error;
	auto addr = p2p::resolve(index, &error);
	if (!addr) {
		dead_reason_ = "cannot resolve index " + label_ + ": " + error;
		return false;
	}
	label_ = p2p::format_endpoint(addr->get());
	p2p::FramedConn::Callbacks cb;
	cb.on_message = [this](p2p::Message& m) { on_message(m); };
	cb.on_close = [this](const std::string& r) { on_close(r); };
	cb.on_connected = [this] { on_connected(); };
	conn_ = std::make_unique<p2p::FramedConn>(base_, addr->get(), static_cast<int>(addr->len), std::move(cb));
	// FramedConn writes each frame and its MAC in one go, as indexd wants.
	if (secret_)
		conn_->set_secret(*secret_);
	arm();
	return true;
}

void IndexLink::on_connected()
{
	connected_ = true;
	for (; sent_ < pending_.size(); sent_++)
		conn_->send(pending_[sent_].request);
}

void IndexLink::timer_cb(evutil_socket_t, short, void* self)
{
	auto* link = static_cast<IndexLink*>(self);
	if (link->conn_)
		link->conn_->close("no answer within the timeout");
}

// The timer runs while an answer is owed; each answer restarts it.
void IndexLink::arm()
{
	if (pending_.empty()) {
		evtimer_del(timer_.get());
		return;
	}
	timeval tv = p2p::to_timeval(timeout_);
	evtimer_add(timer_.get(), &tv);
}

void IndexLink::ask(p2p::Message request, Callback cb)
{
	if (dead_) {
		// Reported from the loop so callers never see a callback from
		// inside their own call.
		late_.push_back(std::move(cb));
		fail_late_.schedule();
		return;
	}
	pending_.push_back({std::move(request), std::move(cb)});
	if (pending_.size() == 1)
		arm();
	if (connected_) {
		conn_->send(pending_.back().request);
		sent_++;
	}
}

void IndexLink::close()
{
	closing_ = true;
	if (conn_ && !conn_->closed())
		conn_->close("done");
}

void IndexLink::on_message(p2p::Message& msg)
{
	if (refuses_us(msg))
		return;
	if (pending_.empty() || sent_ == 0) {
		log_info("index %s: unexpected %s", label_.c_str(), p2p::msg_type_name(p2p::type_of(msg)));
		return;
	}
	Callback cb = std::move(pending_.front().cb);
	pending_.pop_front();
	sent_--;
	arm();
	cb(&msg, "");
}

// An error that answers no request but ends this index for us: true when
// it closed the connection.
bool IndexLink::refuses_us(const p2p::Message& msg)
{
	auto* err = std::get_if<p2p::Error>(&msg);
	if (!err)
		return false;
	// BadAuth answers no request: the index is closing on us. (Without a
	// secret we read its Error and take the MAC after it for garbage.)
	if (err->code == p2p::ErrorCode::BadAuth) {
		log_info("index %s: bad-auth: %s", label_.c_str(), err->text.c_str());
		refused_ = true;
		conn_->close(kIndexRefused);
		return true;
	}
	// Only something that is not an index refuses LOOKUP or LIST as an
	// unknown type; peerd says so in its text.
	if (err->code == p2p::ErrorCode::UnknownType) {
		bool peer = err->text.starts_with("a peer does not answer");
		not_index_ = true;
		conn_->close(label_ + (peer ? " is a peer, not an index" : " is not an index") + " (it says: " + err->text +
		             ")");
		return true;
	}
	// Its store is away: the request was not carried out, another may.
	if (err->code == p2p::ErrorCode::Unavailable) {
		conn_->close("unavailable: " + err->text);
		return true;
	}
	return false;
}

void IndexLink::on_close(const std::string& reason)
{
	evtimer_del(timer_.get());
	// A frame from the index whose MAC failed our check: the index has no
	// secret, or another one.
	if (conn_->refused_with() == p2p::ErrorCode::BadAuth)
		refused_ = true;
	if (refused_)
		log_info("index %s: %s", label_.c_str(), reason.c_str());
	dead_reason_ = refused_ ? std::string(kIndexRefused) : not_index_ ? reason : "index " + label_ + ": " + reason;
	// An index without a secret takes our MAC for a bad frame and closes
	// before its MAC-less reply could fail our check.
	if (!refused_ && secret_ && connected_ && conn_->frames_in() == 0 && !pending_.empty())
		dead_reason_ += " (does it have the same --secret-file?)";
	// The FramedConn is on the stack now: free it on the next turn.
	reaper_.bury(std::move(conn_));
	connected_ = false;
	if (!closing_ && next_ < indexes_.size()) {
		move_on(dead_reason_);
		return;
	}
	dead_ = true;
	fail_all(dead_reason_);
}

// Every unanswered request goes to the next index, asked again in order.
void IndexLink::move_on(const std::string& reason)
{
	const p2p::HostPort& next = indexes_[next_];
	if (pending_.empty())
		log_info("%s; next time asking %s:%u", reason.c_str(), next.host.c_str(), next.port);
	else
		log_warn("%s; asking %s:%u", reason.c_str(), next.host.c_str(), next.port);
	connect_next();
}

void IndexLink::fail_late()
{
	auto late = std::move(late_);
	late_.clear();
	for (auto& cb : late)
		cb(nullptr, dead_reason_);
}

void IndexLink::fail_all(const std::string& reason)
{
	auto pending = std::move(pending_);
	pending_.clear();
	sent_ = 0;
	for (auto& ask : pending)
		ask.cb(nullptr, reason);
}

} // namespace p2pget
