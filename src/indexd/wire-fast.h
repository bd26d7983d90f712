// The few frames of indexd's hot path (LOOKUP in, LOOKUP_REPLY and PONG
// out), read and written by hand, straight from and into byte buffers,
// without building a p2p::Message. Headers coming in are the framing
// step's to check (frame-step.h). Pure; the unit tests hold every function
// here byte for byte to the codec, which stays the one definition of the
// layouts.
#pragma once

#include "p2p/codec.h"

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace indexd {

// The name of a LOOKUP payload (u16 length, bytes), viewing `payload`;
// false when the lengths disagree. The caller still checks the name.
bool lookup_name(const std::byte* payload, std::size_t len, std::string_view& name);

// Appends LOOKUP_REPLY{name, holders} (holders within kMaxLookupPeers).
void append_lookup_reply(std::vector<std::byte>& out, std::string_view name,
                         std::span<const p2p::PeerHolding> holders);

// Appends the PONG for a whole PING frame: the same token back.
void append_pong(std::vector<std::byte>& out, const std::byte* ping_frame);

} // namespace indexd
