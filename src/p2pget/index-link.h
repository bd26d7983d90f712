// p2pget's connection to the index: sends Lookup and List requests and hands
// each reply to the callback of the request it answers (the index answers
// in order). A connect failure, a close or a silence longer than the
// timeout fails every pending request with the reason: the index cannot be
// reached.
#pragma once

#include "p2p/address.h"
#include "p2p/ev.h"
#include "p2p/framed-conn.h"

#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace p2pget {

class IndexLink {
public:
	// reply == nullptr: the index could not be asked; `error` says why.
	using Callback = std::function<void(const p2p::Message* reply, const std::string& error)>;

	IndexLink(event_base* base, const p2p::HostPort& index, double timeout);
	IndexLink(const IndexLink&) = delete;
	IndexLink& operator=(const IndexLink&) = delete;
	~IndexLink();

	void ask(p2p::Message request, Callback cb);
	void close();

private:
	static void timer_cb(evutil_socket_t, short, void* self);
	void on_message(p2p::Message& msg);
	void on_close(const std::string& reason);
	void fail_all(const std::string& reason);
	void arm();

	event_base* base_;
	std::string label_;
	double timeout_;
	bool connected_ = false;
	bool dead_ = false;
	std::string dead_reason_;
	std::deque<p2p::Message> unsent_;
	std::deque<Callback> pending_;
	p2p::EventPtr timer_;
	std::unique_ptr<p2p::FramedConn> conn_; // last: freed first
};

} // namespace p2pget
