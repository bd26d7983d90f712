#include "p2p/codec.h"

#include <catch2/catch.hpp>

#include <random>

using namespace p2p;

namespace {

Hash hash_of(std::uint8_t seed)
{
	Hash h;
	for (std::size_t i = 0; i < h.size(); i++)
		h[i] = static_cast<std::uint8_t>(seed + i);
	return h;
}

IpBytes loopback6()
{
	IpBytes ip{};
	ip[15] = 1;
	return ip;
}

// One valid example of every message type.
std::vector<Message> samples()
{
	Manifest manifest{"dir/big.iso", 5ull << 30, kChunkSize, hash_of(9), 2560, 16, {hash_of(1), hash_of(2)}};
	return {
		Register{60003, {{"a.txt", 10, hash_of(1)}, {"sub/dir/ünïcode.bin", 5ull << 32, hash_of(2)}}},
		Update{{{"new.txt", 0, hash_of(3)}}, {"old.txt", "sub/gone"}},
		Unregister{},
		Lookup{"sub/dir/ünïcode.bin"},
		LookupReply{"a.txt", {{loopback6(), 60001, 10, hash_of(4)}}},
		LookupReply{"missing", {}},
		List{"", 100},
		List{"m", kMaxListPage},
		ListReply{true, {{"a.txt", 10, hash_of(5), 3}}},
		Stats{},
		StatsReply{{{"peers", 3}, {"files", 1000000}}},
		Ping{0x0102030405060708ull},
		Pong{42},
		Ok{MsgType::Update},
		Error{ErrorCode::NotFound, 7, "no such file"},
		Hello{},
		Challenge{{1, 2, 3}},
		Identify{{4, 5, 6}, {7, 8, 9}},
		ManifestRequest{"a.txt", 0},
		manifest,
		Manifest{"empty", 0, kChunkSize, hash_of(0), 0, 0, {}},
		ChunkRequest{99, "a.txt", hash_of(6), 5ull << 32, kChunkSize},
		ChunkData{99, 5ull << 32, kChunkSize},
		UpdatePartial{{{{"big.iso", 5ull << 30, hash_of(7)}, 17}, {{"a.txt", 10, hash_of(1)}, 0}}},
		Ok{MsgType::UpdatePartial},
		LookupHolders{"big.iso"},
		HoldersReply{"big.iso", {{loopback6(), 60001, 5ull << 30, hash_of(7), kCompleteHolding},
		                         {loopback6(), 41234, 5ull << 30, hash_of(7), 17}}},
		HoldersReply{"missing", {}},
		HaveRequest{"big.iso", 5ull << 30, hash_of(7)},
		HaveMap{"big.iso", {true, false, false, true, true, false, true, false, true}},
		HaveMap{"empty", {}},
		HaveMap{"eight", {true, true, true, true, true, true, true, true}},
		Have{"big.iso", 2559},
		Fetching{"big.iso", 7},
		ChunkRequestSpare{{100, "big.iso", hash_of(7), 6ull << 20, kChunkSize}},
		Error{ErrorCode::Taken, 100, "sent elsewhere just now"},
	};
}

std::span<const std::byte> span_of(const std::vector<std::byte>& v) { return {v.data(), v.size()}; }

std::vector<std::byte> frame(std::uint8_t type, std::vector<std::uint8_t> payload, std::uint8_t version = kVersion)
{
	std::vector<std::byte> out;
	for (std::uint8_t b : {std::uint8_t(0x50), std::uint8_t(0x32), version, type})
		out.push_back(std::byte{b});
	std::uint32_t n = static_cast<std::uint32_t>(payload.size());
	for (int i = 3; i >= 0; i--)
		out.push_back(std::byte{static_cast<std::uint8_t>(n >> (8 * i))});
	for (auto b : payload)
		out.push_back(std::byte{b});
	return out;
}

} // namespace

TEST_CASE("every message survives a round trip", "[codec]")
{
	for (const Message& msg : samples()) {
		auto bytes = encode(msg);
		Decoded d = decode(span_of(bytes));
		INFO(msg_type_name(type_of(msg)));
		REQUIRE(d.status == DecodeStatus::Ok);
		CHECK(d.consumed == bytes.size());
		CHECK(d.message == msg);
	}
}

TEST_CASE("every truncation of a valid frame needs more bytes", "[codec]")
{
	for (const Message& msg : samples()) {
		auto bytes = encode(msg);
		for (std::size_t n = 0; n < bytes.size(); n++) {
			Decoded d = decode(span_of(bytes).first(n));
			INFO(msg_type_name(type_of(msg)) << " cut at " << n);
			REQUIRE(d.status == DecodeStatus::NeedMore);
			REQUIRE(d.consumed == 0);
		}
	}
}

TEST_CASE("two frames back to back decode one at a time", "[codec]")
{
	auto bytes = encode(Ping{1});
	encode(Lookup{"x"}, bytes);
	Decoded first = decode(span_of(bytes));
	REQUIRE(first.status == DecodeStatus::Ok);
	CHECK(std::get<Ping>(first.message).token == 1);
	Decoded second = decode(span_of(bytes).subspan(first.consumed));
	REQUIRE(second.status == DecodeStatus::Ok);
	CHECK(std::get<Lookup>(second.message).name == "x");
}

TEST_CASE("bad headers are refused as soon as they show", "[codec]")
{
	SECTION("wrong magic at the first byte")
	{
		std::vector<std::byte> garbage{std::byte{'G'}};
		Decoded d = decode(garbage);
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::BadMagic);
	}
	SECTION("wrong version")
	{
		Decoded d = decode(span_of(frame(0x0a, {0, 0, 0, 0, 0, 0, 0, 0}, 2)));
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::BadVersion);
	}
	SECTION("unknown type")
	{
		Decoded d = decode(span_of(frame(0x7f, {})));
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::UnknownType);
	}
	SECTION("oversized length, before the payload arrives")
	{
		auto f = frame(0x04, {});
		f[4] = std::byte{0x7f};
		Decoded d = decode(span_of(f));
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::TooLarge);
	}
}

TEST_CASE("malformed payloads are precise errors", "[codec]")
{
	SECTION("trailing bytes")
	{
		Decoded d = decode(span_of(frame(0x0a, {0, 0, 0, 0, 0, 0, 0, 1, 9})));
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::Malformed);
	}
	SECTION("short payload")
	{
		Decoded d = decode(span_of(frame(0x0a, {0, 0, 0})));
		CHECK(d.error == ErrorCode::Malformed);
	}
	SECTION("a count that claims more than the payload holds")
	{
		// REGISTER port 1, 0xffffffff files, nothing after.
		Decoded d = decode(span_of(frame(0x01, {0, 1, 0xff, 0xff, 0xff, 0xff})));
		CHECK(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::Malformed);
	}
	SECTION("unsafe names")
	{
		for (std::string name : std::vector<std::string>{"../etc/passwd", "/etc/passwd", ".hidden", "a/../b", "a//b", "a/", std::string("a\0b", 3)}) {
			std::vector<std::uint8_t> payload(2 + name.size());
			payload[1] = static_cast<std::uint8_t>(name.size());
			std::copy(name.begin(), name.end(), payload.begin() + 2);
			Decoded d = decode(span_of(frame(0x04, payload)));
			INFO(name);
			CHECK(d.status == DecodeStatus::Bad);
			CHECK(d.error == ErrorCode::BadName);
		}
	}
	SECTION("manifest whose chunk count does not match its size")
	{
		Manifest m{"f", 10, kChunkSize, {}, 1, 0, {}};
		auto bytes = encode(m);
		bytes[8 + 2 + 1 + 8 + 4 + 32 + 3] = std::byte{2}; // chunk_count = 2
		CHECK(decode(span_of(bytes)).error == ErrorCode::Malformed);
	}
	SECTION("a name longer than 4096 bytes is a bad name, as the name rule says")
	{
		auto bytes = encode(Lookup{std::string(kMaxName, 'a')});
		REQUIRE(decode(span_of(bytes)).status == DecodeStatus::Ok);
		bytes = encode(Lookup{std::string(kMaxName + 1, 'a')});
		CHECK(decode(span_of(bytes)).error == ErrorCode::BadName);
	}
}

// The server refuses such a request alone (bad-range, ref = its id) and
// keeps the connection, so the codec must hand it over intact.
TEST_CASE("a chunk map is one bit per chunk, first chunk in the high bit", "[codec]")
{
	auto bytes = encode(HaveMap{"m", {true, false, false, false, false, false, false, false, false, true}});
	// header, name (u16 + 1), u32 count 10, then 2 bytes of bits
	REQUIRE(bytes.size() == kHeaderSize + 3 + 4 + 2);
	CHECK(bytes[kHeaderSize + 7] == std::byte{0x80});
	CHECK(bytes[kHeaderSize + 8] == std::byte{0x40});

	SECTION("a count larger than the bits sent is malformed")
	{
		auto f = frame(0x25, {0, 1, 'm', 0, 0, 0, 17, 0xff, 0xff});
		Decoded d = decode(span_of(f));
		REQUIRE(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::Malformed);
	}
	SECTION("spare bits set are malformed, so a map has one encoding")
	{
		auto f = frame(0x25, {0, 1, 'm', 0, 0, 0, 10, 0x80, 0x60});
		Decoded d = decode(span_of(f));
		REQUIRE(d.status == DecodeStatus::Bad);
		CHECK(d.error == ErrorCode::Malformed);
	}
	SECTION("a holder entry in HOLDERS_REPLY is a lookup holding and a chunk count")
	{
		auto reply = encode(HoldersReply{"m", {{loopback6(), 1, 2, hash_of(3), 4}}});
		CHECK(reply.size() == kHeaderSize + 3 + 4 + kHolderSize);
	}
}

TEST_CASE("a chunk request longer than 16 MiB decodes, to be refused by the server", "[codec]")
{
	ChunkRequest req{7, "f", {}, 0, kMaxChunkLength};
	auto bytes = encode(req);
	bytes.back() = std::byte{1}; // length = 16 MiB + 1
	Decoded d = decode(span_of(bytes));
	REQUIRE(d.status == DecodeStatus::Ok);
	CHECK(std::get<ChunkRequest>(d.message).length == kMaxChunkLength + 1);
	CHECK(std::get<ChunkRequest>(d.message).id == 7);
}

TEST_CASE("random bytes never crash the decoder", "[codec]")
{
	std::mt19937 rng(12345);
	auto valid = samples();
	int verdicts[3] = {};
	for (int i = 0; i < 5000; i++) {
		std::vector<std::byte> bytes;
		if (i % 2 == 0) {
			// Mutate a valid frame: most interesting bugs hide near valid input.
			bytes = encode(valid[rng() % valid.size()]);
			for (int k = 0; k < 3; k++)
				bytes[rng() % bytes.size()] = std::byte{static_cast<std::uint8_t>(rng())};
		} else {
			bytes.resize(rng() % 64);
			for (auto& b : bytes)
				b = std::byte{static_cast<std::uint8_t>(rng())};
			if (bytes.size() >= 4 && i % 4 == 1) {
				bytes[0] = std::byte{0x50};
				bytes[1] = std::byte{0x32};
				bytes[2] = std::byte{kVersion};
			}
		}
		Decoded d = decode(span_of(bytes));
		verdicts[static_cast<int>(d.status)]++;
		REQUIRE(d.consumed <= bytes.size());
	}
	CHECK(verdicts[static_cast<int>(DecodeStatus::Bad)] > 0);
	CHECK(verdicts[static_cast<int>(DecodeStatus::Ok)] > 0);
}
