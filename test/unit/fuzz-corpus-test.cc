// The fuzz seed corpus and every input a fuzzer ever crashed on
// (test/fuzz/regressions) replayed through the codec on every `make test`,
// and the framing step's seeds through the step.
#include "p2p/codec.h"
#include "p2p/frame-step.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

namespace fs = std::filesystem;

TEST_CASE("fuzz corpus inputs decode and re-encode identically", "[codec][fuzz]")
{
	int files = 0;
	for (const char* dir : {"test/fuzz/corpus/codec", "test/fuzz/regressions"}) {
		if (!fs::exists(dir))
			continue;
		for (const auto& entry : fs::directory_iterator(dir)) {
			std::ifstream in(entry.path(), std::ios::binary);
			std::vector<char> raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
			std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(raw.data()), raw.size());
			INFO(entry.path().string());
			while (!bytes.empty()) {
				p2p::Decoded d = p2p::decode(bytes);
				if (d.status != p2p::DecodeStatus::Ok)
					break;
				REQUIRE(d.consumed <= bytes.size());
				auto again = p2p::encode(d.message);
				REQUIRE(again.size() == d.consumed);
				CHECK(std::equal(again.begin(), again.end(), bytes.begin()));
				bytes = bytes.subspan(d.consumed);
			}
			files++;
		}
	}
	CHECK(files >= 20); // one seed per message type at least
}

// As test/fuzz/frame-step-fuzz.cc reads its inputs: byte 0 odd for a closed
// cluster (key 0x5a...), byte 1 a cut point, then the stream. Each seed's
// name says what the step must make of it.
TEST_CASE("frame-step corpus inputs get the verdicts their names say", "[frame-step][fuzz]")
{
	const fs::path dir = "test/fuzz/corpus/frame-step";
	REQUIRE(fs::exists(dir));
	p2p::SecretKey key;
	key.fill(0x5a);
	int files = 0;
	for (const auto& entry : fs::directory_iterator(dir)) {
		std::ifstream in(entry.path(), std::ios::binary);
		std::vector<char> raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
		REQUIRE(raw.size() >= 2);
		std::string name = entry.path().filename().string();
		INFO(name);
		std::optional<p2p::FrameAuth> auth;
		if (raw[0] & 1)
			auth.emplace(key, false);
		std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(raw.data()) + 2, raw.size() - 2);
		p2p::FrameStep s;
		int frames = 0;
		while (!bytes.empty()) {
			s = p2p::frame_step(bytes, auth ? &*auth : nullptr);
			if (!s.is_frame())
				break;
			REQUIRE(s.used <= bytes.size());
			CHECK(p2p::decode_frame(s.header.type, s.frame).status == p2p::DecodeStatus::Ok);
			frames++;
			bytes = bytes.subspan(s.used);
		}
		auto named = [&](const char* word) { return name.find(word) != std::string::npos; };
		if (named("bad-") || named("unknown-type") || named("too-large") || named("plain-to-a-cluster"))
			CHECK(s.is_bad());
		else if (named("mac-missing"))
			CHECK((s.need_more() && s.awaiting_mac));
		else
			CHECK((frames >= 2 && bytes.empty()));
		files++;
	}
	CHECK(files >= 10);
}
