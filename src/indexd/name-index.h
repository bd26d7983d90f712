// A hash index from a name to the value that owns it: open addressing,
// linear probing, one flat array of (hash, value) slots. A lookup costs the
// slot's cache line and the owner's; std::unordered_map also walked a
// chain of separately allocated nodes, and at 1M names that walk was half
// of indexd's time at 16 lookups in flight. Erasing shifts the run behind
// the hole back (no tombstones), so probes stay short however names come
// and go. The index does not own the names: KeyOf reads a value's name,
// which must not change while the value is in the index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace indexd {

template <class V, class KeyOf, class Hash = std::hash<std::string_view>>
class NameIndex {
public:
	const V* find(std::string_view name) const
	{
		std::size_t i = locate(name, hash_of(name));
		return slots_.empty() || slots_[i].hash == 0 ? nullptr : &slots_[i].value;
	}

	// `name` (the value's own) must not be in the index yet.
	void insert(std::string_view name, V value)
	{
		if ((size_ + 1) * 2 > slots_.size())
			grow();
		std::uint64_t h = hash_of(name);
		slots_[locate(name, h)] = Slot{h, std::move(value)};
		size_++;
	}

	bool erase(std::string_view name)
	{
		if (slots_.empty())
			return false;
		std::size_t hole = locate(name, hash_of(name));
		if (slots_[hole].hash == 0)
			return false;
		std::size_t mask = slots_.size() - 1;
		// Move back each slot behind the hole whose home is not between
		// the hole and it, so that every probe still finds its value.
		for (std::size_t j = (hole + 1) & mask; slots_[j].hash != 0; j = (j + 1) & mask) {
			std::size_t home = slots_[j].hash & mask;
			bool between = hole < j ? (hole < home && home <= j) : (hole < home || home <= j);
			if (!between) {
				slots_[hole] = std::move(slots_[j]);
				hole = j;
			}
		}
		slots_[hole] = Slot{};
		size_--;
		return true;
	}

	// Prefetching, for a batch of lookups about to be made: the slot where
	// a probe for `h` starts, and the value its run holds under `h` (a
	// hint only: the name is not compared, so as not to wait for it).
	void prefetch(std::uint64_t h) const
	{
		if (!slots_.empty())
			__builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
	}
	const V* hint(std::uint64_t h) const
	{
		if (slots_.empty())
			return nullptr;
		std::size_t mask = slots_.size() - 1;
		for (std::size_t i = h & mask; slots_[i].hash != 0; i = (i + 1) & mask)
			if (slots_[i].hash == h)
				return &slots_[i].value;
		return nullptr;
	}

	static std::uint64_t hash_of(std::string_view name)
	{
		std::uint64_t h = Hash{}(name);
		return h == 0 ? 1 : h;
	}

	std::size_t size() const { return size_; }
	std::size_t capacity() const { return slots_.size(); }

private:
	struct Slot {
		std::uint64_t hash = 0; // 0: empty
		V value{};
	};

	// The slot holding `name`, else the empty slot that ends its probe.
	std::size_t locate(std::string_view name, std::uint64_t h) const
	{
		if (slots_.empty())
			return 0;
		std::size_t mask = slots_.size() - 1;
		std::size_t i = h & mask;
		while (slots_[i].hash != 0 && (slots_[i].hash != h || KeyOf{}(slots_[i].value) != name))
			i = (i + 1) & mask;
		return i;
	}

	void grow()
	{
		std::vector<Slot> old(slots_.empty() ? 16 : slots_.size() * 2);
		old.swap(slots_);
		std::size_t mask = slots_.size() - 1;
		for (Slot& s : old) {
			if (s.hash == 0)
				continue;
			std::size_t i = s.hash & mask;
			while (slots_[i].hash != 0)
				i = (i + 1) & mask;
			slots_[i] = std::move(s);
		}
	}

	std::vector<Slot> slots_;
	std::size_t size_ = 0;
};

} // namespace indexd
