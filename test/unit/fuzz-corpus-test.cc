// The fuzz seed corpus and every input a fuzzer ever crashed on
// (test/fuzz/regressions) replayed through the codec on every `make test`.
#include "p2p/codec.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

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
