// A peer's Ed25519 identity. The index binds a registration to the key
// that signed it: the same key may replace its own stale session at once,
// another key cannot take a live (host, port) over. The peer signs
//   "p2p-register-v1" || nonce || BLAKE2b-256(REGISTER payload)
// so a signature is good for one challenge, one port and one file list.
#pragma once

#include "p2p/message.h"

#include <array>
#include <optional>
#include <string>

namespace p2p {

using PublicKey = std::array<std::uint8_t, kPublicKeySize>;
using Signature = std::array<std::uint8_t, kSignatureSize>;
using Nonce = std::array<std::uint8_t, kNonceSize>;

class Identity {
public:
	// Reads the key pair at `path`, or makes one there (mode 0600) if there is
	// none. A key file others can read is refused, as ssh does.
	static std::optional<Identity> load_or_create(const std::string& path, std::string* error);
	// A new key pair kept only in memory (a p2pget that serves for one run).
	static Identity generate();

	Identity(const Identity&) = delete;
	Identity& operator=(const Identity&) = delete;
	Identity(Identity&& other) noexcept;
	Identity& operator=(Identity&&) = delete;
	~Identity();

	const PublicKey& public_key() const { return public_; }
	Signature sign_registration(const Nonce& nonce, const Register& reg) const;

private:
	Identity() = default;
	PublicKey public_{};
	std::array<std::uint8_t, 64> secret_{}; // libsodium's form: seed || public key
};

bool verify_registration(const PublicKey& key, const Signature& sig, const Nonce& nonce, const Register& reg);
Nonce make_nonce();

} // namespace p2p
