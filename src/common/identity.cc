#include "p2p/identity.h"

#include "p2p/codec.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace p2p {
namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == kPublicKeySize);
static_assert(crypto_sign_BYTES == kSignatureSize);
static_assert(crypto_sign_SECRETKEYBYTES == 64);

constexpr char kContext[] = "p2p-register-v1";

// What gets signed: context, nonce, and a digest of the REGISTER payload.
std::array<std::uint8_t, sizeof kContext - 1 + kNonceSize + kHashSize> signed_bytes(const Nonce& nonce,
                                                                                  const Register& reg)
{
	std::vector<std::byte> frame = encode(reg);
	Hash digest = hash_bytes(frame.data() + kHeaderSize, frame.size() - kHeaderSize);
	std::array<std::uint8_t, sizeof kContext - 1 + kNonceSize + kHashSize> out;
	auto* p = out.data();
	std::memcpy(p, kContext, sizeof kContext - 1);
	std::memcpy(p + sizeof kContext - 1, nonce.data(), nonce.size());
	std::memcpy(p + sizeof kContext - 1 + nonce.size(), digest.data(), digest.size());
	return out;
}

std::string errno_text(const std::string& path) { return path + ": " + std::strerror(errno); }

} // namespace

Identity::Identity(Identity&& other) noexcept : public_(other.public_), secret_(other.secret_)
{
	sodium_memzero(other.secret_.data(), other.secret_.size());
}

Identity::~Identity() { sodium_memzero(secret_.data(), secret_.size()); }

Identity Identity::generate()
{
	Identity id;
	crypto_sign_keypair(id.public_.data(), id.secret_.data());
	return id;
}

std::optional<Identity> Identity::load_or_create(const std::string& path, std::string* error)
{
	Identity id;
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		struct stat st;
		bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
		if (ok && (st.st_mode & 077)) {
			::close(fd);
			*error = path + ": key file is readable by others; chmod 600 it";
			return std::nullopt;
		}
		ssize_t n = ok ? ::read(fd, id.secret_.data(), id.secret_.size()) : -1;
		::close(fd);
		if (n != static_cast<ssize_t>(id.secret_.size())) {
			*error = path + ": not a key file (64 bytes expected)";
			return std::nullopt;
		}
		crypto_sign_ed25519_sk_to_pk(id.public_.data(), id.secret_.data());
		return id;
	}
	if (errno != ENOENT) {
		*error = errno_text(path);
		return std::nullopt;
	}
	crypto_sign_keypair(id.public_.data(), id.secret_.data());
	// Written to a temporary name and renamed, so a crash never leaves half a key.
	std::string tmp = path + ".tmp";
	fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		*error = errno_text(tmp);
		return std::nullopt;
	}
	bool written = ::write(fd, id.secret_.data(), id.secret_.size()) == static_cast<ssize_t>(id.secret_.size()) &&
	               ::fsync(fd) == 0;
	::close(fd);
	if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
		*error = errno_text(path);
		::unlink(tmp.c_str());
		return std::nullopt;
	}
	return id;
}

Signature Identity::sign_registration(const Nonce& nonce, const Register& reg) const
{
	auto msg = signed_bytes(nonce, reg);
	Signature sig;
	crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), secret_.data());
	return sig;
}

bool verify_registration(const PublicKey& key, const Signature& sig, const Nonce& nonce, const Register& reg)
{
	auto msg = signed_bytes(nonce, reg);
	return crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), key.data()) == 0;
}

Nonce make_nonce()
{
	Nonce n;
	randombytes_buf(n.data(), n.size());
	return n;
}

} // namespace p2p
