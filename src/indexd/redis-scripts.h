// The Lua scripts that keep the index in Redis. Each runs atomically, so
// the (host, port) ownership and the same-key takeover rule hold across
// every indexd on one Redis. Every key starts with KEYS[1] ("{p2p}:"): one
// hash tag, so on Redis Cluster all of one index lives in one slot and a
// script may touch all its keys. Time is Redis's own (TIME), the one clock
// all indexd share. See indexd(8), KEY LAYOUT.
#pragma once

namespace indexd::redis_scripts {

enum Script { Register, Update, Touch, Remove, List, Sweep, Stats, kCount };

const char* text(Script s);

} // namespace indexd::redis_scripts
