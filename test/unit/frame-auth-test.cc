#include "p2p/frame-auth.h"

#include "p2p/codec.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

using namespace p2p;

namespace {
SecretKey key_of(std::uint8_t b)
{
	SecretKey k;
	k.fill(b);
	return k;
}
std::span<const std::byte> bytes_of(const Mac& m) { return {reinterpret_cast<const std::byte*>(m.data()), m.size()}; }
} // namespace

TEST_CASE("a sealed frame verifies on the other side, in order", "[frame-auth]")
{
	FrameAuth client(key_of(1), true), server(key_of(1), false);
	auto f1 = encode(Lookup{"a"}), f2 = encode(Lookup{"b"});
	Mac m1 = client.seal(f1), m2 = client.seal(f2);
	CHECK(server.verify(f1, bytes_of(m1)));
	CHECK(server.verify(f2, bytes_of(m2)));
}

TEST_CASE("append_mac seals only the frame at the end of a buffer", "[frame-auth]")
{
	FrameAuth client(key_of(1), true), server(key_of(1), false);
	auto f1 = encode(Ping{1}), f2 = encode(Ping{2});
	std::vector<std::byte> batch = f1;
	client.append_mac(batch);
	std::size_t second = batch.size();
	batch.insert(batch.end(), f2.begin(), f2.end());
	client.append_mac(batch, second);
	REQUIRE(batch.size() == f1.size() + f2.size() + 2 * kMacSize);
	std::span<const std::byte> all(batch);
	CHECK(server.verify(f1, all.subspan(f1.size(), kMacSize)));
	CHECK(server.verify(f2, all.subspan(second + f2.size(), kMacSize)));
}

TEST_CASE("forged, replayed, reordered and reflected frames are refused", "[frame-auth]")
{
	auto f = encode(Lookup{"a"});
	SECTION("another key")
	{
		FrameAuth client(key_of(1), true), server(key_of(2), false);
		CHECK_FALSE(server.verify(f, bytes_of(client.seal(f))));
	}
	SECTION("a changed byte")
	{
		FrameAuth client(key_of(1), true), server(key_of(1), false);
		Mac m = client.seal(f);
		f.back() = std::byte{'b'};
		CHECK_FALSE(server.verify(f, bytes_of(m)));
	}
	SECTION("replayed")
	{
		FrameAuth client(key_of(1), true), server(key_of(1), false);
		Mac m = client.seal(f);
		CHECK(server.verify(f, bytes_of(m)));
		CHECK_FALSE(server.verify(f, bytes_of(m)));
	}
	SECTION("reflected back to its sender")
	{
		FrameAuth client(key_of(1), true);
		FrameAuth client_rx(key_of(1), true);
		CHECK_FALSE(client_rx.verify(f, bytes_of(client.seal(f))));
	}
}

TEST_CASE("secret files hold 32 bytes or 64 hex digits", "[frame-auth]")
{
	char path[] = "/tmp/p2p-secret-XXXXXX";
	int fd = mkstemp(path);
	REQUIRE(fd >= 0);
	::close(fd);
	std::string error;
	std::ofstream(path) << std::string(64, 'a') << "\n";
	auto k = load_secret_file(path, &error);
	REQUIRE(k);
	CHECK((*k)[0] == 0xaa);
	std::ofstream(path, std::ios::trunc) << std::string(32, 'z');
	CHECK(load_secret_file(path, &error));
	std::ofstream(path, std::ios::trunc) << "short";
	CHECK_FALSE(load_secret_file(path, &error));
	CHECK(error.find("32 bytes") != std::string::npos);
	::unlink(path);
	CHECK_FALSE(load_secret_file(path, &error));
}
