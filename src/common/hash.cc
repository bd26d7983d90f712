// BLAKE2b-256 through libsodium's crypto_generichash.
//
// sodium_init() is what points BLAKE2b at its fastest compress routine for
// this CPU (AVX2 here, ~1.5x the portable one it starts with), so every
// entry point makes sure it ran, whoever forgot hash_init().
#include "p2p/hash.h"

#include <sodium.h>

#include <cstring>

namespace p2p {

static_assert(sizeof(Hash) == crypto_generichash_BYTES);
static_assert(sizeof(crypto_generichash_state) <= 384);

namespace {

bool sodium_ready()
{
	static const bool ok = sodium_init() >= 0; // once, thread-safe
	return ok;
}

} // namespace

bool hash_init()
{
	return sodium_ready();
}

Hash hash_bytes(const void* data, std::size_t len)
{
	sodium_ready();
	Hash out;
	crypto_generichash(out.data(), out.size(), static_cast<const unsigned char*>(data), len, nullptr, 0);
	return out;
}

Hash hash_bytes(std::span<const std::byte> bytes)
{
	return hash_bytes(bytes.data(), bytes.size());
}

Hash content_hash(std::span<const Hash> chunk_hashes)
{
	return hash_bytes(chunk_hashes.data(), chunk_hashes.size_bytes());
}

std::uint32_t chunk_count(std::uint64_t size, std::uint32_t chunk_size)
{
	return static_cast<std::uint32_t>((size + chunk_size - 1) / chunk_size);
}

std::string to_hex(const Hash& hash)
{
	static constexpr char digits[] = "0123456789abcdef";
	std::string s(hash.size() * 2, '0');
	for (std::size_t i = 0; i < hash.size(); i++) {
		s[2 * i] = digits[hash[i] >> 4];
		s[2 * i + 1] = digits[hash[i] & 15];
	}
	return s;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool from_hex(std::string_view hex, Hash& out)
{
	if (hex.size() != out.size() * 2)
		return false;
	for (std::size_t i = 0; i < out.size(); i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
	}
	return true;
}

Hasher::Hasher()
{
	sodium_ready();
	crypto_generichash_init(reinterpret_cast<crypto_generichash_state*>(state_), nullptr, 0, sizeof(Hash));
}

void Hasher::update(const void* data, std::size_t len)
{
	crypto_generichash_update(reinterpret_cast<crypto_generichash_state*>(state_),
	                          static_cast<const unsigned char*>(data), len);
}

Hash Hasher::finish()
{
	Hash out;
	crypto_generichash_final(reinterpret_cast<crypto_generichash_state*>(state_), out.data(), out.size());
	return out;
}

} // namespace p2p
