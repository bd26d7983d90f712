// The control connection of anything that holds files for others (peerd,
// and p2pget while it serves what it downloads): prove the key (HELLO,
// CHALLENGE, IDENTIFY), register the holdings, send updates as they change,
// ping at a third of the index's TTL, and when the connection is lost or
// the registration refused, reconnect with backoff (never more than 2 s
// between tries) and register again. Serving does not depend on it.
#pragma once

#include "p2p/address.h"
#include "p2p/framed-conn.h"
#include "p2p/identity.h"
#include "p2p/message.h"
#include "p2p/reaper.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2p {

// What a holder has, as the frames that tell the index. Pure: no I/O.
class Holdings {
public:
	virtual ~Holdings() = default;
	// Everything held: a Register (first page) plus further pages.
	virtual void full_pages(std::uint16_t port, Register& reg, std::vector<Message>& rest) const = 0;
	virtual bool has_changes() const = 0;
	// Pending changes as frames that each fit in one payload; clears them.
	virtual std::vector<Message> take_updates() = 0;
	// Forgets pending changes (a full register supersedes them).
	virtual void clear_changes() = 0;
	virtual std::size_t size() const = 0;
	// Feature bits the index must state before `msg` may be sent (0: none).
	// Such frames wait for its STATS_REPLY; an index without them never
	// gets them.
	virtual std::uint64_t features_needed(const Message&) const { return 0; }
	// The index stated its features (after every registration).
	virtual void index_features_known(std::uint64_t) {}
};

// Counted by the link; the names are peerd's STATS keys.
struct LinkCounters {
	std::uint64_t index_connects = 0;
	std::uint64_t index_registers = 0;
	std::uint64_t index_updates = 0;
	std::uint64_t index_errors = 0;
	std::uint64_t index_refused = 0; // registration refused (address in use, auth)
};

class RegistrationLink {
public:
	// `indexes`: at least one. `secret`: closed cluster, every frame MAC'd
	// (nullptr: open).
	RegistrationLink(event_base* base, std::vector<SockAddr> indexes, std::uint16_t port, Holdings& holdings,
	                 LinkCounters& counters, const Identity& identity, const SecretKey* secret);
	RegistrationLink(const RegistrationLink&) = delete;
	RegistrationLink& operator=(const RegistrationLink&) = delete;
	~RegistrationLink();

	void start();
	// The holdings have changes: send them soon (bursts go out as one update).
	void changed();
	// Unregisters (waiting briefly for the Ok), then calls `done`.
	void unregister(std::function<void()> done);
	bool registered() const { return registered_; }
	// The index's "features" from STATS_REPLY; 0 until known.
	std::uint64_t index_features() const { return features_; }

private:
	void connect();
	void on_connected();
	void on_message(Message& msg);
	void on_ok(const Ok& ok);
	void on_error(const Error& err);
	void on_challenge(const Challenge& ch);
	void on_stats(const StatsReply& stats);
	void on_close(const std::string& reason);
	void log_close(bool was_registered, const std::string& reason);
	void send_or_hold(Message msg, bool count);
	void send_held();
	void flush();
	void retry_later();
	void schedule_pings(double interval);
	void finish_unregister();
	static void retry_cb(evutil_socket_t, short, void* self);
	static void ping_cb(evutil_socket_t, short, void* self);
	static void flush_cb(evutil_socket_t, short, void* self);
	static void bye_cb(evutil_socket_t, short, void* self);

	event_base* base_;
	std::vector<SockAddr> indexes_;
	std::size_t current_ = 0; // which of indexes_ we talk to
	std::string index_name_;
	std::uint16_t port_;
	Holdings& holdings_;
	LinkCounters& counters_;
	const Identity& identity_;
	std::optional<SecretKey> secret_;
	bool connected_ = false;
	bool challenged_ = false;  // HELLO answered: IDENTIFY and REGISTER sent
	bool registered_ = false;  // the index said Ok to our Register
	bool features_known_ = false;
	bool stopping_ = false;
	bool ever_connected_ = false;
	bool said_unreachable_ = false;
	double backoff_ = 0;
	std::uint64_t ping_token_ = 0;
	std::uint64_t features_ = 0;
	std::vector<Message> held_; // frames waiting for the index's features
	std::function<void()> bye_done_;
	EventPtr retry_ev_, ping_ev_, flush_ev_, bye_ev_;
	Reaper<FramedConn> reaper_; // closed connections
	std::unique_ptr<FramedConn> conn_; // last: freed first
};

} // namespace p2p
