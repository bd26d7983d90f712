// Content hashes, shared by peerd and p2pget.
//
// A chunk's hash is BLAKE2b-256 of its bytes. A file's content hash is
// BLAKE2b-256 over the concatenation of its chunk hashes (chunk size in the
// manifest, 2 MiB by default), so a client can check each chunk as it
// arrives and catch a bad peer at its first bad chunk. A 0-byte file has no
// chunks; its content hash is BLAKE2b-256 of the empty string.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

using Hash = std::array<std::uint8_t, 32>;

// Must be called once before any other function here (wraps sodium_init).
bool hash_init();

Hash hash_bytes(std::span<const std::byte> bytes);
Hash hash_bytes(const void* data, std::size_t len);
Hash content_hash(std::span<const Hash> chunk_hashes);

std::uint32_t chunk_count(std::uint64_t size, std::uint32_t chunk_size);

std::string to_hex(const Hash& hash);
bool from_hex(std::string_view hex, Hash& out);

// Incremental BLAKE2b-256 for data that arrives in pieces.
class Hasher {
public:
	Hasher();
	void update(const void* data, std::size_t len);
	Hash finish();

private:
	alignas(64) unsigned char state_[384]; // crypto_generichash_state
};

} // namespace p2p
