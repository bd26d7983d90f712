// Layout (P = "{p2p}:"): P.."peers" zset peer -> deadline ms; P.."key" and
// P.."tok" hashes peer -> Ed25519 key ("" unsigned) and owner token;
// P.."f:"..peer set of its names; P.."n:"..name hash peer -> 44-byte record
// (size u64, hash, chunks u32, kCompleteHolding when whole); P.."names" zset
// (score 0) of names, for paging by byte order. A peer id is 16 address
// bytes and the port, big-endian.
#include "redis-scripts.h"

namespace indexd::redis_scripts {
namespace {

#define NOW "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) local P = KEYS[1] "
// Drops every name `peer` holds.
#define DROP_FILES                                                                                  \
	"local function drop(peer) local fk = P .. 'f:' .. peer "                                       \
	"for _, name in ipairs(redis.call('SMEMBERS', fk)) do redis.call('HDEL', P .. 'n:' .. name, peer) " \
	"if redis.call('EXISTS', P .. 'n:' .. name) == 0 then redis.call('ZREM', P .. 'names', name) end end " \
	"redis.call('DEL', fk) end "
#define SET_FILE                                                                                    \
	"local function put(peer, name, rec) redis.call('HSET', P .. 'n:' .. name, peer, rec) "          \
	"redis.call('SADD', P .. 'f:' .. peer, name) redis.call('ZADD', P .. 'names', 0, name) end "
#define OWNED "if redis.call('HGET', P .. 'tok', ARGV[1]) ~= ARGV[2] then return 0 end "

// ARGV: peer, key, token, ttl_ms, then name, record pairs. {1, previous
// token} (a live holder with the same key was replaced) or {0, ""}
// (address in use).
const char* const kRegister = NOW DROP_FILES SET_FILE
	"local peer, key = ARGV[1], ARGV[2] local prev = '' "
	"local live = redis.call('ZSCORE', P .. 'peers', peer) "
	"if live and tonumber(live) > now then "
	"  if key == '' or (redis.call('HGET', P .. 'key', peer) or '') ~= key then return {0, ''} end "
	"  prev = redis.call('HGET', P .. 'tok', peer) or '' end "
	"drop(peer) redis.call('HSET', P .. 'key', peer, key) redis.call('HSET', P .. 'tok', peer, ARGV[3]) "
	"redis.call('ZADD', P .. 'peers', now + tonumber(ARGV[4]), peer) "
	"for i = 5, #ARGV, 2 do put(peer, ARGV[i], ARGV[i + 1]) end "
	"return {1, prev}";

// ARGV: peer, token, ttl_ms, count added, added name, record pairs, then
// removed names. 1, or 0 when the token no longer owns the peer.
const char* const kUpdate = NOW SET_FILE OWNED
	"local peer = ARGV[1] redis.call('ZADD', P .. 'peers', 'XX', now + tonumber(ARGV[3]), peer) "
	"local n = tonumber(ARGV[4]) "
	"for i = 5, 4 + 2 * n, 2 do put(peer, ARGV[i], ARGV[i + 1]) end "
	"for i = 5 + 2 * n, #ARGV do local name = ARGV[i] "
	"  redis.call('HDEL', P .. 'n:' .. name, peer) redis.call('SREM', P .. 'f:' .. peer, name) "
	"  if redis.call('EXISTS', P .. 'n:' .. name) == 0 then redis.call('ZREM', P .. 'names', name) end end "
	"return 1";

// ARGV: peer, token, ttl_ms. 1, or 0 when not the owner any more.
const char* const kTouch = NOW OWNED
	"redis.call('ZADD', P .. 'peers', 'XX', now + tonumber(ARGV[3]), ARGV[1]) return 1";

// ARGV: peer, token.
const char* const kRemove = NOW DROP_FILES OWNED
	"drop(ARGV[1]) redis.call('HDEL', P .. 'key', ARGV[1]) redis.call('HDEL', P .. 'tok', ARGV[1]) "
	"redis.call('ZREM', P .. 'peers', ARGV[1]) return 1";

// ARGV: after, limit (names). Flat name, record (first 40 bytes: size and
// hash), count triples of complete live holders, one per version, then a
// last element "1" when more names follow.
const char* const kList = NOW
	"local names = redis.call('ZRANGEBYLEX', P .. 'names', '(' .. ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]) + 1) "
	"local out = {} local taken = 0 "
	"for _, name in ipairs(names) do "
	"  if taken == tonumber(ARGV[2]) then out[#out + 1] = '1' return out end "
	"  local h = redis.call('HGETALL', P .. 'n:' .. name) local seen = {} local order = {} "
	"  for i = 1, #h, 2 do local rec = h[i + 1] "
	"    if string.sub(rec, 41, 44) == '\\255\\255\\255\\255' then "
	"      local s = redis.call('ZSCORE', P .. 'peers', h[i]) "
	"      if s and tonumber(s) > now then local v = string.sub(rec, 1, 40) "
	"        if not seen[v] then seen[v] = 0 order[#order + 1] = v end seen[v] = seen[v] + 1 end end end "
	"  if #order > 0 then taken = taken + 1 "
	"    for _, v in ipairs(order) do out[#out + 1] = name out[#out + 1] = v out[#out + 1] = seen[v] end end end "
	"out[#out + 1] = '0' return out";

// Forgets peers whose deadline passed (their indexd died or lost them).
// ARGV: at most how many. Returns how many went.
const char* const kSweep = NOW DROP_FILES
	"local dead = redis.call('ZRANGEBYSCORE', P .. 'peers', '-inf', now, 'LIMIT', 0, tonumber(ARGV[1])) "
	"for _, peer in ipairs(dead) do drop(peer) redis.call('HDEL', P .. 'key', peer) "
	"  redis.call('HDEL', P .. 'tok', peer) redis.call('ZREM', P .. 'peers', peer) end "
	"return #dead";

// {live peers, names, registrations of live peers}.
const char* const kStats = NOW
	"local live = redis.call('ZRANGEBYSCORE', P .. 'peers', '(' .. now, '+inf') local files = 0 "
	"for _, peer in ipairs(live) do files = files + redis.call('SCARD', P .. 'f:' .. peer) end "
	"return {#live, redis.call('ZCARD', P .. 'names'), files}";

} // namespace

const char* text(Script s)
{
	static const char* const all[kCount] = {kRegister, kUpdate, kTouch, kRemove, kList, kSweep, kStats};
	return all[s];
}

} // namespace indexd::redis_scripts
