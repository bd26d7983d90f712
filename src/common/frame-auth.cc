#include "p2p/frame-auth.h"

#include "p2p/hash.h"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace p2p {

static_assert(crypto_auth_BYTES == kMacSize);
static_assert(crypto_auth_KEYBYTES == sizeof(SecretKey));

std::optional<SecretKey> load_secret_file(const std::string& path, std::string* error)
{
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (error)
			*error = path + ": " + std::strerror(errno);
		return std::nullopt;
	}
	char buf[130];
	ssize_t n = ::read(fd, buf, sizeof buf);
	::close(fd);
	SecretKey key;
	if (n == static_cast<ssize_t>(key.size())) {
		std::memcpy(key.data(), buf, key.size());
		return key;
	}
	std::string_view text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
	while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
		text.remove_suffix(1);
	Hash h;
	if (from_hex(text, h)) {
		std::memcpy(key.data(), h.data(), key.size());
		return key;
	}
	if (error)
		*error = path + ": a secret file holds 32 bytes, or 64 hex digits";
	return std::nullopt;
}

Mac FrameAuth::compute(std::span<const std::byte> frame, bool from_initiator, std::uint64_t seq) const
{
	crypto_auth_hmacsha512256_state st;
	crypto_auth_hmacsha512256_init(&st, key_.data(), key_.size());
	unsigned char prefix[9];
	prefix[0] = from_initiator ? 'I' : 'R';
	for (int i = 0; i < 8; i++)
		prefix[1 + i] = static_cast<unsigned char>(seq >> (56 - 8 * i));
	crypto_auth_hmacsha512256_update(&st, prefix, sizeof prefix);
	crypto_auth_hmacsha512256_update(&st, reinterpret_cast<const unsigned char*>(frame.data()), frame.size());
	Mac mac;
	crypto_auth_hmacsha512256_final(&st, mac.data());
	sodium_memzero(&st, sizeof st);
	return mac;
}

Mac FrameAuth::seal(std::span<const std::byte> frame)
{
	return compute(frame, initiator_, sent_++);
}

void FrameAuth::append_mac(std::vector<std::byte>& buf, std::size_t frame_start)
{
	Mac mac = seal({buf.data() + frame_start, buf.size() - frame_start});
	const auto* b = reinterpret_cast<const std::byte*>(mac.data());
	buf.insert(buf.end(), b, b + mac.size());
}

bool FrameAuth::verify(std::span<const std::byte> frame, std::span<const std::byte> mac)
{
	if (mac.size() != kMacSize)
		return false;
	Mac want = compute(frame, !initiator_, received_);
	if (crypto_verify_32(want.data(), reinterpret_cast<const unsigned char*>(mac.data())) != 0)
		return false;
	received_++;
	return true;
}

} // namespace p2p
