// The control connection to the index: prove the peer's key (HELLO,
// CHALLENGE, IDENTIFY), register with the whole share, send updates as it
// changes, ping at a third of the index's TTL, and when the connection is
// lost or the registration refused, reconnect with backoff (never more than
// 2 s between tries) and register again. Serving does not depend on it.
#pragma once

#include "counters.h"
#include "share-table.h"

#include "p2p/address.h"
#include "p2p/framed-conn.h"
#include "p2p/identity.h"
#include "p2p/reaper.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace peerd {

class IndexLink {
public:
	// `secret`: closed cluster, every frame MAC'd (nullptr: open).
	IndexLink(event_base* base, p2p::SockAddr index, std::uint16_t port, ShareTable& table, Counters& counters,
	          const p2p::Identity& identity, const p2p::SecretKey* secret);
	IndexLink(const IndexLink&) = delete;
	IndexLink& operator=(const IndexLink&) = delete;
	~IndexLink();

	void start();
	// The table has changes: send them soon (bursts go out as one update).
	void changed();
	// Unregisters (waiting briefly for the Ok), then calls `done`.
	void unregister(std::function<void()> done);
	bool registered() const { return registered_; }

private:
	void connect();
	void on_connected();
	void on_message(p2p::Message& msg);
	void on_challenge(const p2p::Challenge& ch);
	void on_close(const std::string& reason);
	void flush();
	void retry_later();
	void schedule_pings(double interval);
	void finish_unregister();
	static void retry_cb(evutil_socket_t, short, void* self);
	static void ping_cb(evutil_socket_t, short, void* self);
	static void flush_cb(evutil_socket_t, short, void* self);
	static void bye_cb(evutil_socket_t, short, void* self);

	event_base* base_;
	p2p::SockAddr index_;
	std::string index_name_;
	std::uint16_t port_;
	ShareTable& table_;
	Counters& counters_;
	const p2p::Identity& identity_;
	std::optional<p2p::SecretKey> secret_;
	bool connected_ = false;
	bool challenged_ = false;  // HELLO answered: IDENTIFY and REGISTER sent
	bool registered_ = false;  // the index said Ok to our Register
	bool stopping_ = false;
	bool ever_connected_ = false;
	bool said_unreachable_ = false;
	double backoff_ = 0;
	std::uint64_t ping_token_ = 0;
	std::function<void()> bye_done_;
	p2p::EventPtr retry_ev_, ping_ev_, flush_ev_, bye_ev_;
	p2p::Reaper<p2p::FramedConn> reaper_; // closed connections
	std::unique_ptr<p2p::FramedConn> conn_; // last: freed first
};

} // namespace peerd
