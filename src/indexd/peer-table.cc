// PeerTable: names interned once, holders as small records, peers as slots.
#include "peer-table.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace indexd {

std::size_t PeerTable::KeyHash::operator()(const PeerKey& k) const
{
	std::uint64_t a, b;
	std::memcpy(&a, k.host.data(), 8);
	std::memcpy(&b, k.host.data() + 8, 8);
	std::uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + k.port) * 0xc2b2ae3d27d4eb4full;
	return static_cast<std::size_t>(h ^ (h >> 29));
}

PeerTable::Holder* PeerTable::holder_of(NameEntry& entry, PeerId id)
{
	for (auto& h : entry.holders)
		if (h.peer == id)
			return &h;
	return nullptr;
}

AddResult PeerTable::add(const PeerKey& key, std::span<const p2p::FileEntry> files, double now)
{
	if (by_key_.contains(key))
		return {p2p::ErrorCode::AddressInUse, 0};
	PeerId id = peers_.take();
	Peer& p = peers_[id];
	p.key = key;
	p.heard = now;
	p.live = true;
	by_key_.emplace(key, id);
	live_peers_++;
	for (const auto& f : files)
		if (!set_file(id, f)) {
			remove(id); // all or nothing: a half registration would mislead lookups
			return {p2p::ErrorCode::Busy, 0};
		}
	return {p2p::ErrorCode::None, id};
}

p2p::ErrorCode PeerTable::update(PeerId id, std::span<const p2p::FileEntry> added,
                                 std::span<const std::string> removed, double now)
{
	if (!live(id))
		return p2p::ErrorCode::NotRegistered;
	peers_[id].heard = now;
	p2p::ErrorCode result = p2p::ErrorCode::None;
	for (const auto& f : added)
		if (!set_file(id, f)) {
			result = p2p::ErrorCode::Busy;
			break;
		}
	for (const auto& name : removed)
		unset_file(id, name);
	return result;
}

p2p::ErrorCode PeerTable::update_partial(PeerId id, std::span<const p2p::PartialEntry> entries, double now)
{
	if (!live(id))
		return p2p::ErrorCode::NotRegistered;
	peers_[id].heard = now;
	for (const auto& e : entries)
		if (!set_file(id, e.file, e.chunks))
			return p2p::ErrorCode::Busy;
	return p2p::ErrorCode::None;
}

bool PeerTable::set_file(PeerId id, const p2p::FileEntry& file, std::uint32_t chunks)
{
	Peer& p = peers_[id];
	NameMap::iterator it;
	if (auto found = index_.find(file.name)) {
		it = *found;
		if (Holder* h = holder_of(it->second, id)) {
			h->size = file.size;
			h->hash = file.hash;
			h->chunks = chunks;
			return true;
		}
	} else {
		if (p.files.size() >= max_files_)
			return false;
		it = names_.emplace(file.name, NameEntry{}).first;
		index_.insert(it->first, it);
	}
	if (p.files.size() >= max_files_) {
		drop_name_if_empty(it);
		return false;
	}
	it->second.holders.push_back(Holder{id, static_cast<std::uint32_t>(p.files.size()), file.size, file.hash, chunks});
	p.files.push_back(it);
	registrations_++;
	return true;
}

void PeerTable::unset_file(PeerId id, std::string_view name)
{
	auto found = index_.find(name);
	if (!found)
		return;
	NameMap::iterator it = *found;
	auto& holders = it->second.holders;
	auto h = std::find_if(holders.begin(), holders.end(), [id](const Holder& x) { return x.peer == id; });
	if (h == holders.end())
		return;
	std::uint32_t slot = h->slot;
	*h = holders.back();
	holders.pop_back();
	// Keep the peer's list dense: the last name moves into the freed slot.
	Peer& p = peers_[id];
	NameMap::iterator moved = p.files.back();
	p.files[slot] = moved;
	p.files.pop_back();
	if (slot < p.files.size())
		holder_of(moved->second, id)->slot = slot;
	registrations_--;
	drop_name_if_empty(it);
}

void PeerTable::drop_name_if_empty(NameMap::iterator it)
{
	if (!it->second.holders.empty())
		return;
	index_.erase(it->first);
	names_.erase(it);
}

bool PeerTable::find(const PeerKey& key, PeerId& id) const
{
	auto it = by_key_.find(key);
	id = it == by_key_.end() ? 0 : it->second;
	return it != by_key_.end();
}

bool PeerTable::remove(PeerId id)
{
	if (!live(id))
		return false;
	Peer& p = peers_[id];
	for (NameMap::iterator it : p.files) {
		auto& holders = it->second.holders;
		auto h = std::find_if(holders.begin(), holders.end(), [id](const Holder& x) { return x.peer == id; });
		*h = holders.back();
		holders.pop_back();
		drop_name_if_empty(it);
	}
	registrations_ -= p.files.size();
	// Give the memory back: a slot may sit unused for a long time.
	std::vector<NameMap::iterator>().swap(p.files);
	by_key_.erase(p.key);
	p.live = false;
	live_peers_--;
	peers_.release(id);
	return true;
}

void PeerTable::touch(PeerId id, double now)
{
	if (live(id))
		peers_[id].heard = now;
}

void PeerTable::lookup(std::string_view name, std::vector<p2p::PeerHolding>& out, std::size_t max,
                       bool partial) const
{
	out.clear();
	auto found = index_.find(name);
	if (!found)
		return;
	for (const Holder& h : (*found)->second.holders) {
		if (out.size() >= max)
			break;
		if (!partial && !h.complete())
			continue;
		const PeerKey& k = peers_[h.peer].key;
		out.push_back(p2p::PeerHolding{k.host, k.port, h.size, h.hash, h.chunks});
	}
}

// Each lookup misses the cache three times in a row: its slot, its name's
// node, the node's holders. Over a batch, each of the three is fetched for
// every name before the next is needed, so the misses overlap.
void PeerTable::prefetch(std::span<const std::string_view> names) const
{
	constexpr std::size_t kBatch = 32;
	std::array<std::uint64_t, kBatch> hashes;
	std::array<const NameMap::iterator*, kBatch> hints;
	std::size_t n = std::min(names.size(), kBatch);
	for (std::size_t i = 0; i < n; i++) {
		hashes[i] = index_.hash_of(names[i]);
		index_.prefetch(hashes[i]);
	}
	for (std::size_t i = 0; i < n; i++)
		if ((hints[i] = index_.hint(hashes[i])))
			__builtin_prefetch(&**hints[i]);
	for (std::size_t i = 0; i < n; i++)
		if (hints[i])
			__builtin_prefetch((*hints[i])->second.holders.data());
}

p2p::ListReply PeerTable::list(std::string_view after, std::uint32_t limit, std::size_t max_bytes) const
{
	p2p::ListReply reply;
	std::size_t bytes = 1 + 4; // `more` flag and entry count
	std::uint32_t names = 0;
	std::vector<p2p::ListEntry> versions;
	for (auto it = names_.upper_bound(after); it != names_.end(); ++it) {
		if (names == limit) {
			reply.more = true;
			break;
		}
		// One entry per distinct hash among this name's complete holders.
		versions.clear();
		for (const Holder& h : it->second.holders) {
			if (!h.complete())
				continue;
			auto v = std::find_if(versions.begin(), versions.end(),
			                      [&](const p2p::ListEntry& e) { return e.hash == h.hash; });
			if (v != versions.end())
				v->peers++;
			else
				versions.push_back(p2p::ListEntry{{}, h.size, h.hash, 1});
		}
		if (versions.empty())
			continue; // only partly held so far
		std::size_t entry_bytes = 2 + it->first.size() + 8 + p2p::kHashSize + 4;
		std::size_t need = entry_bytes * versions.size();
		bool fits = bytes + need <= max_bytes && reply.entries.size() + versions.size() <= p2p::kMaxListPage;
		if (!fits && names > 0) {
			reply.more = true;
			break;
		}
		// A lone name with more versions than a page holds gets as many as fit.
		for (auto& v : versions) {
			if (bytes + entry_bytes > max_bytes || reply.entries.size() >= p2p::kMaxListPage)
				break;
			v.name = it->first;
			reply.entries.push_back(std::move(v));
			bytes += entry_bytes;
		}
		names++;
	}
	return reply;
}

std::vector<PeerId> PeerTable::expire(double heard_before)
{
	std::vector<PeerId> gone = peers_.heard_before(heard_before);
	for (PeerId id : gone)
		remove(id);
	return gone;
}

StoreStats PeerTable::stats() const
{
	return {live_peers_, registrations_, names_.size()};
}

} // namespace indexd
