// The index connection; see index-link.h.
#include "index-link.h"

#include "p2p/log.h"

namespace p2pget {

IndexLink::IndexLink(event_base* base, const p2p::HostPort& index, double timeout,
                     const p2p::SecretKey* secret)
	: base_(base), label_(index.host + ":" + std::to_string(index.port)), timeout_(timeout),
	  fail_late_(base, [this] { fail_late(); })
{
	timer_.reset(evtimer_new(base, timer_cb, this));
	std::string error;
	auto addr = p2p::resolve(index, &error);
	if (!addr) {
		dead_ = true;
		dead_reason_ = "cannot resolve index " + label_ + ": " + error;
		return;
	}
	label_ = p2p::format_endpoint(addr->get());
	p2p::FramedConn::Callbacks cb;
	cb.on_message = [this](p2p::Message& m) { on_message(m); };
	cb.on_close = [this](const std::string& r) { on_close(r); };
	cb.on_connected = [this] {
		connected_ = true;
		while (!unsent_.empty()) {
			conn_->send(unsent_.front());
			unsent_.pop_front();
		}
	};
	conn_ = std::make_unique<p2p::FramedConn>(base, addr->get(), static_cast<int>(addr->len), std::move(cb));
	// FramedConn writes each frame and its MAC in one go, as indexd wants.
	if (secret) {
		conn_->set_secret(*secret);
		secret_ = true;
	}
}

IndexLink::~IndexLink() = default;

void IndexLink::timer_cb(evutil_socket_t, short, void* self)
{
	auto* link = static_cast<IndexLink*>(self);
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
	pending_.push_back(std::move(cb));
	if (pending_.size() == 1)
		arm();
	if (connected_)
		conn_->send(request);
	else
		unsent_.push_back(std::move(request));
}

void IndexLink::close()
{
	if (conn_ && !conn_->closed())
		conn_->close("done");
}

void IndexLink::on_message(p2p::Message& msg)
{
	// BadAuth answers no request: the index is closing on us. (Without a
	// secret we read its Error and take the MAC after it for garbage.)
	if (auto* err = std::get_if<p2p::Error>(&msg); err && err->code == p2p::ErrorCode::BadAuth) {
		log_info("index %s: bad-auth: %s", label_.c_str(), err->text.c_str());
		refused_ = true;
		conn_->close(kIndexRefused);
		return;
	}
	// Only something that is not an index refuses LOOKUP or LIST as an
	// unknown type; peerd says so in its text.
	if (auto* err = std::get_if<p2p::Error>(&msg); err && err->code == p2p::ErrorCode::UnknownType) {
		bool peer = err->text.starts_with("a peer does not answer");
		not_index_ = true;
		conn_->close(label_ + (peer ? " is a peer, not an index" : " is not an index") + " (it says: " + err->text +
		             ")");
		return;
	}
	if (pending_.empty()) {
		log_info("index %s: unexpected %s", label_.c_str(), p2p::msg_type_name(p2p::type_of(msg)));
		return;
	}
	Callback cb = std::move(pending_.front());
	pending_.pop_front();
	arm();
	cb(&msg, "");
}

void IndexLink::on_close(const std::string& reason)
{
	evtimer_del(timer_.get());
	dead_ = true;
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
	fail_all(dead_reason_);
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
	unsent_.clear();
	for (auto& cb : pending)
		cb(nullptr, reason);
}

} // namespace p2pget
