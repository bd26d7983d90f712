// Closed clusters: with a shared 32-byte secret, every frame carries a MAC
// (libsodium crypto_auth, HMAC-SHA-512-256) over a direction byte, a
// per-direction frame counter and the frame's bytes, so a frame cannot be
// forged, reordered, replayed within the connection, or reflected back.
// The raw bytes after CHUNK_DATA are not covered: chunk data stays
// zero-copy, and its integrity comes from the chunk hashes.
#pragma once

#include "p2p/protocol.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace p2p {

using SecretKey = std::array<std::uint8_t, 32>;
using Mac = std::array<std::uint8_t, kMacSize>;

// Honest senders write a frame and its MAC together, so a whole frame whose
// MAC has not followed within this long came from a sender without the
// secret: it is told at once instead of at the frame deadline.
inline constexpr double kMacGrace = 2.0;

// Reads a secret file: 32 raw bytes, or 64 hex digits (and a newline).
std::optional<SecretKey> load_secret_file(const std::string& path, std::string* error);

class FrameAuth {
public:
	// `initiator`: true on the side that opened the connection.
	FrameAuth(const SecretKey& key, bool initiator) : key_(key), initiator_(initiator) {}

	Mac seal(std::span<const std::byte> frame);
	// Seals the frame that ends `buf`, starting at `frame_start`, and
	// appends its MAC to `buf`.
	void append_mac(std::vector<std::byte>& buf, std::size_t frame_start = 0);
	bool verify(std::span<const std::byte> frame, std::span<const std::byte> mac);

private:
	Mac compute(std::span<const std::byte> frame, bool from_initiator, std::uint64_t seq) const;

	SecretKey key_;
	bool initiator_;
	std::uint64_t sent_ = 0, received_ = 0;
};

} // namespace p2p
