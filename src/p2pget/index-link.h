// p2pget's connection to the index: sends Lookup and List requests and hands
// each reply to the callback of the request it answers (the index answers
// in order). Given several indexes it asks the first; a connect failure, a
// close, a silence longer than the timeout or an error unavailable (the
// index lost its store) moves every unanswered request to the next one,
// and says so. When the last has failed too, every pending request fails
// with the reason: the index cannot be reached. In a closed cluster every
// frame is MAC'd both ways; an index that refuses our MAC, or whose own MAC
// is wrong, fails every request with kIndexRefused.
#pragma once

#include "p2p/address.h"
#include "p2p/ev.h"
#include "p2p/framed-conn.h"
#include "p2p/reaper.h"

#include <deque>
#include <optional>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace p2pget {

inline constexpr const char* kIndexRefused =
	"the index refused us: frame MAC missing or wrong (is --secret-file the same?)";

class IndexLink {
public:
	// reply == nullptr: the index could not be asked; `error` says why.
	using Callback = std::function<void(const p2p::Message* reply, const std::string& error)>;

	// `indexes`: at least one, in order. `secret`: the closed cluster's key,
	// or nullptr.
	IndexLink(event_base* base, const std::vector<p2p::HostPort>& indexes, double timeout,
	          const p2p::SecretKey* secret);
	IndexLink(const IndexLink&) = delete;
	IndexLink& operator=(const IndexLink&) = delete;
	~IndexLink();

	void ask(p2p::Message request, Callback cb);
	void close();
	// The index refused us, or failed our MAC check (closed cluster).
	bool refused() const { return refused_; }

private:
	struct Ask {
		p2p::Message request;
		Callback cb;
	};
	static void timer_cb(evutil_socket_t, short, void* self);
	void connect_next();
	bool try_connect(const p2p::HostPort& index);
	void on_connected();
	void on_message(p2p::Message& msg);
	bool refuses_us(const p2p::Message& msg);
	void on_close(const std::string& reason);
	void move_on(const std::string& reason);
	void fail_all(const std::string& reason);
	void fail_late();
	void arm();

	event_base* base_;
	std::vector<p2p::HostPort> indexes_;
	std::size_t next_ = 0; // the index to try after the current one
	std::optional<p2p::SecretKey> secret_;
	std::string label_;
	double timeout_;
	bool connected_ = false;
	bool dead_ = false;
	bool refused_ = false;
	bool not_index_ = false; // it refused our request as an unknown type
	bool closing_ = false;   // close() asked: the end, not a failure
	std::string dead_reason_;
	std::deque<Ask> pending_; // in the order asked; the first `sent_` are on the wire
	std::size_t sent_ = 0;
	std::deque<Callback> late_; // asked after the link died: failed from the loop
	p2p::EventPtr timer_;
	p2p::Deferred fail_late_;
	p2p::Reaper<p2p::FramedConn> reaper_; // connections given up
	std::unique_ptr<p2p::FramedConn> conn_; // last: freed first
};

} // namespace p2pget
