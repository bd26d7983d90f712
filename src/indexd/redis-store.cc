// RedisStore: our own peers kept locally, the shared state in Redis through
// the scripts of redis-scripts.cc; see redis-store.h.
#include "redis-store.h"

#include "peer-table.h"

#include "p2p/identity.h"
#include "p2p/log.h"

#include <algorithm>
#include <cstring>

namespace indexd {
namespace {

// Expiry in Redis is refreshed at most this often per peer (a fraction of
// the TTL), however often the peer speaks.
constexpr double kRefreshFraction = 0.25;
constexpr double kSweepInterval = 1.0;
constexpr const char* kSweepBatch = "500";

void put_be(std::string& s, std::uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--)
		s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_be(const char* p, int bytes)
{
	std::uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = (v << 8) | static_cast<unsigned char>(p[i]);
	return v;
}

std::string_view str(const redisReply* r) { return {r->str, r->len}; }

bool is_array(const redisReply* r) { return r && r->type == REDIS_REPLY_ARRAY; }

} // namespace

std::string redis_member(const PeerKey& key)
{
	std::string s(reinterpret_cast<const char*>(key.host.data()), key.host.size());
	put_be(s, key.port, 2);
	return s;
}

std::string redis_record(std::uint64_t size, const p2p::Hash& hash, std::uint32_t chunks)
{
	std::string s;
	s.reserve(44);
	put_be(s, size, 8);
	s.append(reinterpret_cast<const char*>(hash.data()), hash.size());
	put_be(s, chunks, 4);
	return s;
}

bool parse_holding(std::string_view member, std::string_view record, p2p::PeerHolding& out)
{
	if (member.size() != 18 || record.size() < 40)
		return false;
	std::memcpy(out.host.data(), member.data(), 16);
	out.port = static_cast<std::uint16_t>(get_be(member.data() + 16, 2));
	out.size = get_be(record.data(), 8);
	std::memcpy(out.hash.data(), record.data() + 8, out.hash.size());
	out.chunks = record.size() >= 44 ? static_cast<std::uint32_t>(get_be(record.data() + 40, 4))
	                                 : p2p::kCompleteHolding;
	return true;
}

RedisStore::RedisStore(event_base* base, RedisTarget target, double ttl, std::size_t max_waiting,
                       std::size_t max_files)
	: link_(base, std::move(target), [this] { write_again(); }), ttl_(ttl), max_waiting_(max_waiting),
	  max_files_(max_files)
{
	p2p::Nonce n = p2p::make_nonce();
	static const char* hex = "0123456789abcdef";
	for (std::size_t i = 0; i < 8; i++) {
		instance_ += hex[n[i] >> 4];
		instance_ += hex[n[i] & 15];
	}
}

p2p::ErrorCode RedisStore::refusal() const
{
	if (!link_.up())
		return p2p::ErrorCode::Unavailable;
	if (link_.in_flight() >= max_waiting_)
		return p2p::ErrorCode::Busy;
	return p2p::ErrorCode::None;
}

PeerId RedisStore::new_local(const PeerKey& key)
{
	PeerId id = peers_.take();
	Local& p = peers_[id];
	p.key = key;
	p.member = redis_member(key);
	p.token = instance_ + ":" + std::to_string(next_token_++);
	p.live = true;
	by_token_[p.token] = id;
	return id;
}

void RedisStore::drop_local(PeerId id)
{
	Local& p = peers_[id];
	if (!p.live)
		return;
	p.live = false;
	if (auto it = by_member_.find(p.member); it != by_member_.end() && it->second == id)
		by_member_.erase(it);
	by_token_.erase(p.token);
	p.files.clear();
	peers_.release(id);
}

std::vector<std::string> RedisStore::register_args(const Local& p) const
{
	std::vector<std::string> args{p.member, p.public_key, p.token, ttl_ms()};
	args.reserve(4 + 2 * p.files.size());
	for (auto& [name, rec] : p.files) {
		args.push_back(name);
		args.push_back(rec);
	}
	return args;
}

PeerId RedisStore::add(const PeerKey& key, const std::string& public_key, std::span<const p2p::FileEntry> files,
                       double now, Added done)
{
	PeerId id = new_local(key);
	Local& p = peers_[id];
	p.public_key = public_key;
	p.heard = p.refreshed = now;
	for (auto& f : files)
		p.files[f.name] = redis_record(f.size, f.hash, p2p::kCompleteHolding);
	if (p.files.size() > max_files_) {
		// Nothing kept, nothing written; the answer comes in its turn
		// behind what Redis is doing, as any other would.
		auto busy = [this, id, done = std::move(done)](const redisReply*) {
			drop_local(id);
			done(id, p2p::ErrorCode::Busy, std::nullopt);
		};
		if (!link_.ping(busy))
			busy(nullptr);
		return id;
	}
	bool sent = link_.eval(redis_scripts::Register, register_args(p),
	                       [this, id, done = std::move(done)](const redisReply* r) mutable { on_added(id, r, done); });
	if (!sent)
		on_added(id, nullptr, done);
	return id;
}

void RedisStore::on_added(PeerId id, const redisReply* r, Added& done)
{
	if (!is_array(r) || r->elements != 2) {
		drop_local(id);
		done(id, p2p::ErrorCode::Unavailable, std::nullopt);
		return;
	}
	if (r->element[0]->integer == 0) {
		drop_local(id);
		done(id, p2p::ErrorCode::AddressInUse, std::nullopt);
		return;
	}
	Local& p = peers_[id];
	by_member_[p.member] = id;
	std::optional<PeerId> replaced;
	auto it = by_token_.find(std::string(str(r->element[1])));
	if (it != by_token_.end() && it->second != id) {
		replaced = it->second;
		drop_local(it->second); // Redis already has the new owner
	}
	// The counts (STATS, /metrics) include it by the time it is acknowledged.
	refresh_stats([done = std::move(done), id, replaced](p2p::ErrorCode) { done(id, p2p::ErrorCode::None, replaced); });
}

void RedisStore::owned_reply(PeerId id, const redisReply* r, Done& done)
{
	if (!r || r->type != REDIS_REPLY_INTEGER) {
		if (done)
			done(p2p::ErrorCode::Unavailable);
		return;
	}
	if (r->integer == 0 && id < peers_.size() && peers_[id].live)
		lost_.push_back(id); // taken over through another indexd
	if (!done)
		return;
	if (r->integer == 0) {
		done(p2p::ErrorCode::NotRegistered);
		return;
	}
	refresh_stats([done = std::move(done)](p2p::ErrorCode) { done(p2p::ErrorCode::None); });
}

void RedisStore::update(PeerId id, std::span<const p2p::FileEntry> added, std::span<const std::string> removed,
                        double now, Done done)
{
	Records set;
	for (auto& f : added)
		set.emplace_back(f.name, redis_record(f.size, f.hash, p2p::kCompleteHolding));
	send_update(id, std::move(set), removed, now, std::move(done));
}

void RedisStore::update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now, Done done)
{
	Records set;
	for (auto& e : entries)
		set.emplace_back(e.file.name, redis_record(e.file.size, e.file.hash, e.chunks));
	send_update(id, std::move(set), {}, now, std::move(done));
}

// UPDATE and UPDATE_PARTIAL run the one Update script: records to set, then
// names to drop.
void RedisStore::send_update(PeerId id, Records set, std::span<const std::string> removed, double now, Done done)
{
	Local& p = peers_[id];
	if (!p.live) {
		done(p2p::ErrorCode::NotRegistered);
		return;
	}
	p.heard = p.refreshed = now;
	std::vector<std::string> args{p.member, p.token, ttl_ms(), ""};
	// As in memory: what comes before the per-peer limit is kept, then Busy.
	std::size_t n = 0;
	for (; n < set.size(); n++) {
		auto& [name, rec] = set[n];
		if (p.files.size() >= max_files_ && !p.files.contains(name))
			break;
		args.push_back(name);
		args.push_back(rec);
		p.files[name] = std::move(rec);
	}
	args[3] = std::to_string(n);
	if (n < set.size())
		done = [done = std::move(done)](p2p::ErrorCode e) { done(e == p2p::ErrorCode::None ? p2p::ErrorCode::Busy : e); };
	for (auto& name : removed) {
		args.push_back(name);
		p.files.erase(name);
	}
	if (!link_.eval(redis_scripts::Update, args,
	                [this, id, done = std::move(done)](const redisReply* r) mutable { owned_reply(id, r, done); }))
		done(p2p::ErrorCode::Unavailable);
}

// A plain HGETALL, not a script: Redis answers it several times faster
// (a script call costs more than the lookup itself). Liveness is not
// checked per holder: the sweep every indexd runs each second removes
// peers past their deadline, so one may be listed up to that long after
// its TTL ran out.
void RedisStore::lookup(std::string_view name, std::size_t max, bool partial, Holders done)
{
	// `done` moves in, not copied: a copy would allocate its target again.
	RedisLink::Reply reply = [done = std::move(done), max, partial](const redisReply* r) {
		std::vector<p2p::PeerHolding> out;
		if (!is_array(r)) {
			done(p2p::ErrorCode::Unavailable, out);
			return;
		}
		for (std::size_t i = 0; i + 1 < r->elements && out.size() < max; i += 2) {
			p2p::PeerHolding h;
			if (parse_holding(str(r->element[i]), str(r->element[i + 1]), h) && (partial || h.complete()))
				out.push_back(h);
		}
		done(p2p::ErrorCode::None, out);
	};
	if (!link_.hgetall("n:", name, reply))
		reply(nullptr); // Redis away: unavailable, at once
}

// The script's triples into one page that fits `max_bytes`.
static p2p::ListReply list_page(const redisReply* r, std::size_t max_bytes)
{
	p2p::ListReply reply;
	std::size_t bytes = 1 + 4;
	std::size_t n = r->elements;
	reply.more = n > 0 && str(r->element[n - 1]) == "1";
	for (std::size_t i = 0; i + 2 < n; i += 3) {
		std::string_view name = str(r->element[i]), rec = str(r->element[i + 1]);
		std::size_t entry_bytes = 2 + name.size() + 8 + p2p::kHashSize + 4;
		if (bytes + entry_bytes > max_bytes || reply.entries.size() >= p2p::kMaxListPage) {
			reply.more = true;
			// A cut page ends on a whole name (the next starts after it),
			// unless this one name is all there is.
			while (reply.entries.size() > 1 && reply.entries.back().name == name &&
			       reply.entries.front().name != name)
				reply.entries.pop_back();
			break;
		}
		p2p::PeerHolding h;
		if (rec.size() < 40 || !parse_holding(std::string(18, '\0'), rec, h))
			continue;
		reply.entries.push_back({std::string(name), h.size, h.hash, static_cast<std::uint32_t>(r->element[i + 2]->integer)});
		bytes += entry_bytes;
	}
	return reply;
}

void RedisStore::list(std::string_view after, std::uint32_t limit, std::size_t max_bytes, Listed done)
{
	std::vector<std::string> args{std::string(after), std::to_string(limit)};
	bool sent = link_.eval(redis_scripts::List, args, [done, max_bytes](const redisReply* r) {
		p2p::ListReply page;
		if (!is_array(r)) {
			done(p2p::ErrorCode::Unavailable, page);
			return;
		}
		page = list_page(r, max_bytes);
		done(p2p::ErrorCode::None, page);
	});
	if (!sent) {
		p2p::ListReply none;
		done(p2p::ErrorCode::Unavailable, none);
	}
}

std::vector<PeerId> RedisStore::take_lost()
{
	std::vector<PeerId> out;
	for (PeerId id : lost_)
		if (peers_[id].live) {
			drop_local(id);
			out.push_back(id);
		}
	lost_.clear();
	return out;
}

// Redis came back (or for the first time): write our live peers again, so
// they need not re-register; one taken meanwhile is lost.
void RedisStore::write_again()
{
	if (!ever_up_) {
		ever_up_ = true;
		return;
	}
	std::size_t n = 0;
	for (PeerId id = 0; id < peers_.size(); id++) {
		if (!peers_[id].live)
			continue;
		n++;
		link_.eval(redis_scripts::Register, register_args(peers_[id]), [this, id](const redisReply* r) {
			if (is_array(r) && r->elements == 2 && r->element[0]->integer == 0)
				lost_.push_back(id);
		});
	}
	log_info("%s: wrote our %zu live peers again", link_.where().c_str(), n);
}

// IndexStore, synchronous: the local side only.
AddResult RedisStore::add(const PeerKey& key, std::span<const p2p::FileEntry> files, double now)
{
	return {p2p::ErrorCode::None, add(key, "", files, now, [](PeerId, p2p::ErrorCode, std::optional<PeerId>) {})};
}

p2p::ErrorCode RedisStore::update(PeerId id, std::span<const p2p::FileEntry> added,
                                  std::span<const std::string> removed, double now)
{
	update(id, added, removed, now, [](p2p::ErrorCode) {});
	return p2p::ErrorCode::None;
}

p2p::ErrorCode RedisStore::update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now)
{
	update_partial(id, entries, now, [](p2p::ErrorCode) {});
	return p2p::ErrorCode::None;
}

bool RedisStore::find(const PeerKey& key, PeerId& id) const
{
	auto it = by_member_.find(redis_member(key));
	if (it == by_member_.end())
		return false;
	id = it->second;
	return true;
}

bool RedisStore::remove(PeerId id)
{
	if (id >= peers_.size() || !peers_[id].live)
		return false;
	link_.eval(redis_scripts::Remove, {peers_[id].member, peers_[id].token}, nullptr);
	drop_local(id);
	return true;
}

void RedisStore::touch(PeerId id, double now)
{
	Local& p = peers_[id];
	if (!p.live)
		return;
	p.heard = now;
	if (now - p.refreshed < ttl_ * kRefreshFraction || refusal() != p2p::ErrorCode::None)
		return;
	p.refreshed = now;
	link_.eval(redis_scripts::Touch, {p.member, p.token, ttl_ms()},
	           [this, id](const redisReply* r) {
		           Done none;
		           owned_reply(id, r, none);
	           });
}

void RedisStore::lookup(std::string_view, std::vector<p2p::PeerHolding>& out, std::size_t, bool) const
{
	out.clear(); // sessions ask through AsyncStore
}

p2p::ListReply RedisStore::list(std::string_view, std::uint32_t, std::size_t) const { return {}; }

std::vector<PeerId> RedisStore::expire(double heard_before)
{
	std::vector<PeerId> gone = peers_.heard_before(heard_before);
	for (PeerId id : gone)
		remove(id);
	double now = heard_before + ttl_;
	check_owned(now);
	refresh_stats(now);
	return gone;
}

// Every live peer of ours, at least every quarter TTL even when silent:
// its deadline in Redis set from when we last heard it, and whether it is
// still ours (another indexd may have let the same key take it over).
void RedisStore::check_owned(double now)
{
	if (refusal() != p2p::ErrorCode::None)
		return;
	for (PeerId id = 0; id < peers_.size(); id++) {
		Local& p = peers_[id];
		if (!p.live || now - p.refreshed < ttl_ * kRefreshFraction)
			continue;
		p.refreshed = now;
		auto left_ms = static_cast<long long>(std::max(1.0, (p.heard + ttl_ - now) * 1000));
		link_.eval(redis_scripts::Touch, {p.member, p.token, std::to_string(left_ms)}, [this, id](const redisReply* r) {
			Done none;
			owned_reply(id, r, none);
		});
	}
}

// Once a second: forget peers whose indexd died (their deadline passed in
// Redis), and read the counts STATS gives.
void RedisStore::refresh_stats(double now)
{
	if (now - last_sweep_ < kSweepInterval || refusal() != p2p::ErrorCode::None)
		return;
	last_sweep_ = now;
	link_.eval(redis_scripts::Sweep, {kSweepBatch}, nullptr);
	refresh_stats(nullptr);
}

void RedisStore::refresh_stats(Done done)
{
	bool sent = link_.eval(redis_scripts::Stats, {}, [this, done](const redisReply* r) {
		bool ok = is_array(r) && r->elements == 3;
		if (ok) {
			stats_.peers = static_cast<std::uint64_t>(r->element[0]->integer);
			stats_.names = static_cast<std::uint64_t>(r->element[1]->integer);
			stats_.registrations = static_cast<std::uint64_t>(r->element[2]->integer);
		}
		if (done)
			done(ok ? p2p::ErrorCode::None : p2p::ErrorCode::Unavailable);
	});
	if (!sent && done)
		done(p2p::ErrorCode::Unavailable);
}

} // namespace indexd
