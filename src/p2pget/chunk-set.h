// A set of positions [0, n) as one bit each: the chunk plan's queue at one
// availability, and which chunks one holder has. Finding the lowest member
// is O(1): every word below `low_` is known to be empty, and erasing the
// lowest member moves `low_` on past the words that became empty, so taking
// members in order costs O(n/64) over all of them (amortized O(1) each).
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

namespace p2pget {

class ChunkSet {
public:
	ChunkSet() = default;
	explicit ChunkSet(std::uint32_t n, bool full = false);

	std::uint32_t capacity() const { return n_; }
	std::uint32_t size() const { return size_; }
	bool empty() const { return size_ == 0; }
	bool contains(std::uint32_t i) const { return (words_[i / 64] >> (i % 64)) & 1; }
	void insert(std::uint32_t i);
	void erase(std::uint32_t i);
	void clear();

	// The lowest member: O(1).
	std::optional<std::uint32_t> first() const;
	// The lowest member that `other` (of the same capacity) holds too:
	// O(n/64) at worst, a word at a time.
	std::optional<std::uint32_t> first_in(const ChunkSet& other) const;

	// Calls f(i) for every member, lowest first: O(n/64 + size()).
	template <class F> void for_each(F f) const
	{
		for (std::size_t w = low_; w < words_.size(); w++)
			for (std::uint64_t bits = words_[w]; bits != 0; bits &= bits - 1)
				f(static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(bits))));
	}

private:
	std::vector<std::uint64_t> words_;
	std::uint32_t n_ = 0;
	std::uint32_t size_ = 0;
	std::size_t low_ = 0; // words_[w] == 0 for every w < low_
};

} // namespace p2pget
