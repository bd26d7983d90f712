// Which chunks this server sent moments ago, and to whom, so that a
// downloader sharing us with others (CHUNK_REQUEST_SPARE) is told to get a
// chunk from the client that has it coming, rather than have our upload,
// the swarm's scarce link, send it twice. A chunk counts as just sent for
// p2p::kSpareWindow seconds: long enough for a slow copy to arrive and its
// HAVE to reach the others; short enough that a receiver gone meanwhile
// delays the chunk by no more. Pure: the clock is passed in.
#pragma once

#include "p2p/protocol.h"

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>

namespace serve {

class RecentSends {
public:
	using Session = std::uint64_t;

	// `session` is sent `chunk` of `name` at `now`.
	void sent(const std::string& name, std::uint32_t chunk, Session session, double now);
	// Whether a session other than `session` was sent it within the window.
	bool taken(const std::string& name, std::uint32_t chunk, Session session, double now);
	std::size_t size() const { return last_.size(); }

private:
	using Key = std::pair<std::string, std::uint32_t>;
	struct Last {
		Session session;
		double at;
	};
	void forget_before(double at);

	std::map<Key, Last> last_;
	std::deque<std::pair<double, Key>> order_; // every send, oldest first
};

} // namespace serve
