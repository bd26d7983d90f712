// The Redis connection; see redis-link.h.
#include "redis-link.h"

#include "p2p/address.h"
#include "p2p/log.h"
#include "p2p/parse-number.h"

#include <hiredis/adapters/libevent.h>

#include <algorithm>

namespace indexd {
namespace {

constexpr double kFirstBackoff = 0.1;
// Whole again within 5 s of Redis coming back: never wait longer than this.
constexpr double kMaxBackoff = 1.0;
constexpr const char* kPrefix = "{p2p}:";

} // namespace

bool parse_redis_url(std::string_view url, RedisTarget& out, std::string& error)
{
	constexpr std::string_view scheme = "redis://";
	if (!url.starts_with(scheme)) {
		error = "want memory or redis://HOST[:PORT][/DB]";
		return false;
	}
	url.remove_prefix(scheme.size());
	auto slash = url.find('/');
	if (slash != std::string_view::npos) {
		auto db = p2p::parse_u64(url.substr(slash + 1), 1u << 20);
		if (!db) {
			error = "bad Redis database number '" + std::string(url.substr(slash + 1)) + "'";
			return false;
		}
		out.db = static_cast<unsigned>(*db);
		url = url.substr(0, slash);
	}
	auto hp = p2p::parse_host_port(url, 6379);
	if (!hp) {
		error = "bad Redis address '" + std::string(url) + "' (want HOST[:PORT])";
		return false;
	}
	out.host = hp->host;
	out.port = hp->port;
	return true;
}

RedisLink::RedisLink(event_base* base, RedisTarget target, std::function<void()> on_up)
	: base_(base), target_(std::move(target)), on_up_(std::move(on_up)), retry_ev_(evtimer_new(base, retry_cb, this)),
	  fail_refused_(base, [this] {
		  auto refused = std::move(refused_);
		  refused_.clear();
		  for (auto& done : refused)
			  if (done)
				  done(nullptr);
	  })
{
	where_ = "redis://" + target_.host + ":" + std::to_string(target_.port) + "/" + std::to_string(target_.db);
}

RedisLink::~RedisLink()
{
	on_up_ = nullptr;
	up_ = false;
	if (ctx_)
		ctx_->data = nullptr; // its last callbacks find no link
	ctx_.reset();
}

void RedisLink::start() { connect(); }

void RedisLink::connect()
{
	ctx_.reset(redisAsyncConnect(target_.host.c_str(), target_.port));
	if (!ctx_ || ctx_->err) {
		went_down(ctx_ ? ctx_->errstr : "out of memory");
		ctx_.reset();
		return;
	}
	ctx_->data = this;
	redisLibeventAttach(ctx_.get(), base_);
	redisAsyncSetConnectCallback(ctx_.get(), connect_cb);
	redisAsyncSetDisconnectCallback(ctx_.get(), disconnect_cb);
}

void RedisLink::connect_cb(const redisAsyncContext* c, int status)
{
	if (auto* self = static_cast<RedisLink*>(c->data))
		self->on_connect(status);
}

void RedisLink::disconnect_cb(const redisAsyncContext* c, int status)
{
	if (auto* self = static_cast<RedisLink*>(c->data))
		self->on_disconnect(status);
}

void RedisLink::on_connect(int status)
{
	if (status != REDIS_OK) {
		std::string why = ctx_ && ctx_->errstr[0] ? ctx_->errstr : "cannot connect";
		(void)ctx_.release(); // hiredis frees it after this callback
		went_down(why);
		return;
	}
	connects_++;
	load_scripts();
}

void RedisLink::on_disconnect(int status)
{
	std::string why = status == REDIS_OK ? "closed" : (ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost");
	(void)ctx_.release(); // hiredis frees it after this callback
	went_down(why);
}

// SELECT, then every script; up once the last digest is back.
void RedisLink::load_scripts()
{
	shas_.assign(redis_scripts::kCount, "");
	command({"SELECT", std::to_string(target_.db)}, [this](const redisReply* r) {
		if (r && r->type == REDIS_REPLY_ERROR)
			log_warn("%s: SELECT: %s", where_.c_str(), r->str);
	});
	for (int i = 0; i < redis_scripts::kCount; i++) {
		auto s = static_cast<redis_scripts::Script>(i);
		command({"SCRIPT", "LOAD", redis_scripts::text(s)}, [this, i](const redisReply* r) {
			if (!r || r->type != REDIS_REPLY_STRING) {
				errors_++;
				log_error("%s: cannot load script %d: %s", where_.c_str(), i, r ? r->str : "no reply");
				return;
			}
			shas_[i] = std::string(r->str, r->len);
			if (i + 1 == redis_scripts::kCount) {
				up_ = true;
				backoff_ = 0;
				log_info("%s: connected, scripts loaded", where_.c_str());
				said_down_ = false;
				if (on_up_)
					on_up_();
			}
		});
	}
}

bool RedisLink::command(const std::vector<std::string>& argv, Reply done)
{
	std::vector<const char*> ptrs;
	std::vector<std::size_t> lens;
	ptrs.reserve(argv.size());
	lens.reserve(argv.size());
	for (auto& a : argv) {
		ptrs.push_back(a.data());
		lens.push_back(a.size());
	}
	return submitted(redisAsyncCommandArgv(ctx_.get(), reply_cb, nullptr, static_cast<int>(argv.size()), ptrs.data(),
	                                       lens.data()),
	                 std::move(done));
}

bool RedisLink::submitted(int status, Reply done)
{
	if (status != REDIS_OK) {
		errors_++;
		refused_.push_back(std::move(done));
		fail_refused_.schedule();
		return true;
	}
	waiting_.push_back(std::move(done));
	return true;
}

void format_hgetall(std::string& out, std::initializer_list<std::string_view> parts)
{
	std::size_t size = 0;
	for (std::string_view part : parts)
		size += part.size();
	out.assign("*2\r\n$7\r\nHGETALL\r\n$");
	out.append(std::to_string(size)).append("\r\n");
	for (std::string_view part : parts)
		out.append(part);
	out.append("\r\n");
}

bool RedisLink::ping(Reply done)
{
	if (!up_ || !ctx_)
		return false;
	return command({"PING"}, std::move(done));
}

// The hot path of every lookup: formatted here, so hiredis only copies it.
bool RedisLink::hgetall(std::string_view kind, std::string_view name, Reply& done)
{
	if (!up_ || !ctx_)
		return false;
	format_hgetall(scratch_, {kPrefix, kind, name});
	return submitted(redisAsyncFormattedCommand(ctx_.get(), reply_cb, nullptr, scratch_.data(), scratch_.size()),
	                 std::move(done));
}

bool RedisLink::eval(redis_scripts::Script script, const std::vector<std::string>& args, Reply done)
{
	if (!up_ || !ctx_)
		return false;
	std::vector<std::string> argv{"EVALSHA", shas_[script], "1", kPrefix};
	argv.insert(argv.end(), args.begin(), args.end());
	return command(argv, std::move(done));
}

void RedisLink::reply_cb(redisAsyncContext* c, void* r, void*)
{
	if (auto* self = static_cast<RedisLink*>(c->data))
		self->on_reply(static_cast<redisReply*>(r));
}

void RedisLink::on_reply(redisReply* r)
{
	if (waiting_.empty())
		return;
	Reply done = std::move(waiting_.front());
	waiting_.pop_front();
	if (r && r->type == REDIS_REPLY_ERROR) {
		errors_++;
		log_warn("%s: %.*s", where_.c_str(), static_cast<int>(r->len), r->str);
	}
	if (done)
		done(r);
}

void RedisLink::went_down(const std::string& why)
{
	bool was_up = up_;
	up_ = false;
	errors_++;
	if (was_up || !said_down_)
		log_warn("%s: %s; answering unavailable, reconnecting", where_.c_str(), why.c_str());
	else
		log_debug("%s: %s", where_.c_str(), why.c_str());
	said_down_ = true;
	backoff_ = backoff_ == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
	timeval tv = p2p::to_timeval(backoff_);
	evtimer_add(retry_ev_.get(), &tv);
}

void RedisLink::retry_cb(evutil_socket_t, short, void* self) { static_cast<RedisLink*>(self)->connect(); }

} // namespace indexd
