// indexd's one connection to Redis, on indexd's own event_base through
// hiredis's libevent adapter: never a blocking call. Commands are
// pipelined and their replies come back in order, so the callbacks wait in
// one FIFO. On connect the scripts are loaded (SCRIPT LOAD); the link is
// up once their digests are back. Lost or refused: every waiting command
// gets a null reply at once, and it reconnects with backoff (0.1 s doubling
// to at most 1 s), calling on_up again when whole.
#pragma once

#include "redis-scripts.h"

#include "p2p/ev.h"
#include "p2p/reaper.h"

#include <hiredis/async.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace indexd {

// One owner for each hiredis context: hiredis frees a context itself after
// its disconnect callback, so the owner lets go there (release) and frees
// it only when it is still connected.
struct RedisAsyncFree {
	void operator()(redisAsyncContext* c) const { redisAsyncFree(c); }
};
using RedisAsyncPtr = std::unique_ptr<redisAsyncContext, RedisAsyncFree>;

struct RedisTarget {
	std::string host = "127.0.0.1";
	std::uint16_t port = 6379;
	unsigned db = 0;
};

// "redis://HOST[:PORT][/DB]"; nullopt-like false with `error` when malformed.
bool parse_redis_url(std::string_view url, RedisTarget& out, std::string& error);

// The RESP of HGETALL of the key `parts` make together into `out`
// (replaced): the bytes hiredis's own formatting makes, without its
// allocations per command.
void format_hgetall(std::string& out, std::initializer_list<std::string_view> parts);

class RedisLink {
public:
	// reply == nullptr: the command did not run (Redis away).
	using Reply = std::function<void(const redisReply* reply)>;

	RedisLink(event_base* base, RedisTarget target, std::function<void()> on_up);
	RedisLink(const RedisLink&) = delete;
	RedisLink& operator=(const RedisLink&) = delete;
	~RedisLink();

	void start();
	bool up() const { return up_; }
	std::size_t in_flight() const { return waiting_.size(); }
	std::uint64_t errors() const { return errors_; }
	std::uint64_t connects() const { return connects_; }
	const std::string& where() const { return where_; }
	// Runs `script` with KEYS[1] = the prefix and `args`; false (and `done`
	// not called) when the link is down. `done` never runs from inside.
	bool eval(redis_scripts::Script script, const std::vector<std::string>& args, Reply done);
	// HGETALL of the prefix + `kind` + `name`, a plain command; false as
	// for eval, and then `done` is left with the caller (taken only when
	// sent, so the hot path never copies it).
	bool hgetall(std::string_view kind, std::string_view name, Reply& done);
	// A PING: `done` runs after every reply to what was sent before it.
	bool ping(Reply done);

private:
	static void connect_cb(const redisAsyncContext* c, int status);
	static void disconnect_cb(const redisAsyncContext* c, int status);
	static void reply_cb(redisAsyncContext* c, void* r, void* privdata);
	static void retry_cb(evutil_socket_t, short, void* self);
	void connect();
	void on_connect(int status);
	void on_disconnect(int status);
	void on_reply(redisReply* r);
	void load_scripts();
	bool command(const std::vector<std::string>& argv, Reply done);
	// The bookkeeping after hiredis took (REDIS_OK) or refused a command.
	bool submitted(int status, Reply done);
	void went_down(const std::string& why);

	event_base* base_;
	RedisTarget target_;
	std::string where_;
	std::function<void()> on_up_;
	bool up_ = false;
	bool said_down_ = false;
	double backoff_ = 0;
	std::uint64_t errors_ = 0;
	std::uint64_t connects_ = 0;
	std::vector<std::string> shas_;
	std::deque<Reply> waiting_;
	std::string scratch_; // a formatted command, reused
	std::deque<Reply> refused_; // hiredis would not queue them: a null reply from the loop
	p2p::EventPtr retry_ev_;
	p2p::Deferred fail_refused_;
	RedisAsyncPtr ctx_; // last: freed first
};

} // namespace indexd
