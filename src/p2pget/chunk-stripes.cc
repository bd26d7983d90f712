// Chunk stripes: see chunk-stripes.h.
#include "chunk-stripes.h"

#include <algorithm>
#include <unordered_map>

namespace p2pget {

std::uint64_t stripe_key(const std::array<std::uint8_t, 16>& ip, std::uint16_t port)
{
	std::uint64_t h = 0xcbf29ce484222325u; // FNV-1a
	for (std::uint8_t b : ip)
		h = (h ^ b) * 0x100000001b3u;
	for (std::uint8_t b : {static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)})
		h = (h ^ b) * 0x100000001b3u;
	return h == 0 ? 1 : h;
}

ChunkStripes::ChunkStripes(std::vector<std::uint32_t> chunk_at, std::uint64_t self_key)
	: chunk_at_(std::move(chunk_at)), self_(self_key), owner_(chunk_at_.size(), self_key), best_(chunk_at_.size())
{
	for (std::uint32_t c = 0; c < best_.size(); c++)
		best_[c] = score(self_, c);
}

// SplitMix64's finalizer over key and chunk: well mixed, the same on every
// platform, so every downloader computes the same owners.
std::uint64_t ChunkStripes::score(std::uint64_t key, std::uint32_t chunk)
{
	std::uint64_t z = key ^ (static_cast<std::uint64_t>(chunk) * 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void ChunkStripes::add(std::uint64_t key)
{
	if (key == self_ || std::find(keys_.begin(), keys_.end(), key) != keys_.end())
		return;
	keys_.push_back(key);
	for (std::uint32_t c = 0; c < owner_.size(); c++)
		if (std::uint64_t s = score(key, c); s > best_[c]) {
			owner_[c] = key;
			best_[c] = s;
		}
}

void ChunkStripes::remove(std::uint64_t key)
{
	auto it = std::find(keys_.begin(), keys_.end(), key);
	if (it == keys_.end())
		return;
	keys_.erase(it);
	for (std::uint32_t c = 0; c < owner_.size(); c++) {
		if (owner_[c] != key)
			continue;
		owner_[c] = self_;
		best_[c] = score(self_, c);
		for (std::uint64_t k : keys_)
			if (std::uint64_t s = score(k, c); s > best_[c]) {
				owner_[c] = k;
				best_[c] = s;
			}
	}
}

std::optional<std::uint32_t> ChunkStripes::pick(const ChunkSet& open, const std::vector<std::uint64_t>& busy,
                                                bool stuck) const
{
	std::optional<std::uint32_t> mine;
	std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> left; // owner -> its open chunks
	open.for_each([&](std::uint32_t r) {
		std::uint32_t c = chunk_at_[r];
		if (owner_[c] != self_)
			left[owner_[c]].push_back(c);
		else if (!mine || best_[c] < best_[*mine])
			mine = c;
	});
	if (mine)
		return mine;
	if (stuck) {
		auto r = open.first();
		return r ? std::optional<std::uint32_t>(chunk_at_[*r]) : std::nullopt;
	}
	// An owner's chunks to go: those open, and the one it fetches if busy.
	auto to_go = [&](auto& entry) {
		bool fetching = std::find(busy.begin(), busy.end(), entry.first) != busy.end();
		return entry.second.size() + (fetching ? 1 : 0);
	};
	const std::pair<const std::uint64_t, std::vector<std::uint32_t>>* victim = nullptr;
	for (auto& entry : left)
		if (to_go(entry) >= 2 && (!victim || to_go(entry) > to_go(*victim)))
			victim = &entry;
	if (!victim)
		return std::nullopt;
	// Its order, lowest score first, behind the one it fetches; ours among
	// its later half: the first of them in rank order, as they came.
	std::vector<std::uint32_t> order = victim->second;
	std::sort(order.begin(), order.end(), [&](auto a, auto b) { return best_[a] < best_[b]; });
	std::size_t fetching = to_go(*victim) - order.size();
	std::uint64_t cut = best_[order[to_go(*victim) / 2 - fetching]];
	for (std::uint32_t c : victim->second)
		if (best_[c] >= cut)
			return c;
	return std::nullopt;
}

} // namespace p2pget
