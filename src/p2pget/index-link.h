// p2pget's connection to the index: sends Lookup and List requests and hands
// each reply to the callback of the request it answers (the index answers
// in order). A connect failure, a close or a silence longer than the
// timeout fails every pending request with the reason: the index cannot be
// reached. In a closed cluster every frame is MAC'd both ways; an index
// that refuses our MAC, or whose own MAC is wrong, fails every request with
// kIndexRefused.
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

namespace p2pget {

inline constexpr const char* kIndexRefused =
	"the index refused us: frame MAC missing or wrong (is --secret-file the same?)";

class IndexLink {
public:
	// reply == nullptr: the index could not be asked; `error` says why.
	using Callback = std::function<void(const p2p::Message* reply, const std::string& error)>;

	// `secret`: the closed cluster's key, or nullptr.
	IndexLink(event_base* base, const p2p::HostPort& index, double timeout, const p2p::SecretKey* secret);
	IndexLink(const IndexLink&) = delete;
	IndexLink& operator=(const IndexLink&) = delete;
	~IndexLink();

	void ask(p2p::Message request, Callback cb);
	void close();
	// The index refused us, or failed our MAC check (closed cluster).
	bool refused() const { return refused_; }

private:
	static void timer_cb(evutil_socket_t, short, void* self);
	void on_message(p2p::Message& msg);
	void on_close(const std::string& reason);
	void fail_all(const std::string& reason);
	void fail_late();
	void arm();

	event_base* base_;
	std::string label_;
	double timeout_;
	bool connected_ = false;
	bool dead_ = false;
	bool refused_ = false;
	bool not_index_ = false; // it refused our request as an unknown type
	bool secret_ = false;
	std::string dead_reason_;
	std::deque<p2p::Message> unsent_;
	std::deque<Callback> pending_;
	std::deque<Callback> late_; // asked after the link died: failed from the loop
	p2p::EventPtr timer_;
	p2p::Deferred fail_late_;
	std::unique_ptr<p2p::FramedConn> conn_; // last: freed first
};

} // namespace p2pget
