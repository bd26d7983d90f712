// The chunk plan's bitset; see chunk-set.h.
#include "chunk-set.h"

#include <algorithm>

namespace p2pget {

ChunkSet::ChunkSet(std::uint32_t n, bool full) : words_((n + 63) / 64, full ? ~std::uint64_t{0} : 0), n_(n)
{
	if (full && n % 64 != 0)
		words_.back() = (std::uint64_t{1} << (n % 64)) - 1;
	size_ = full ? n : 0;
	if (!full)
		low_ = words_.size();
}

void ChunkSet::insert(std::uint32_t i)
{
	std::uint64_t bit = std::uint64_t{1} << (i % 64);
	std::size_t w = i / 64;
	if (words_[w] & bit)
		return;
	words_[w] |= bit;
	size_++;
	if (w < low_)
		low_ = w;
}

void ChunkSet::erase(std::uint32_t i)
{
	std::uint64_t bit = std::uint64_t{1} << (i % 64);
	std::size_t w = i / 64;
	if (!(words_[w] & bit))
		return;
	words_[w] &= ~bit;
	size_--;
	if (w == low_)
		while (low_ < words_.size() && words_[low_] == 0)
			low_++;
}

void ChunkSet::clear()
{
	std::fill(words_.begin(), words_.end(), 0);
	size_ = 0;
	low_ = words_.size();
}

std::optional<std::uint32_t> ChunkSet::first() const
{
	if (low_ == words_.size())
		return std::nullopt;
	return static_cast<std::uint32_t>(low_ * 64 + static_cast<unsigned>(std::countr_zero(words_[low_])));
}

std::optional<std::uint32_t> ChunkSet::first_in(const ChunkSet& other) const
{
	for (std::size_t w = std::max(low_, other.low_); w < words_.size(); w++) {
		std::uint64_t both = words_[w] & other.words_[w];
		if (both != 0)
			return static_cast<std::uint32_t>(w * 64 + static_cast<unsigned>(std::countr_zero(both)));
	}
	return std::nullopt;
}

} // namespace p2pget
