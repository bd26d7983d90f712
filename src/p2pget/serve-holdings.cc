// The holdings of a serving p2pget; see serve-holdings.h.
#include "serve-holdings.h"

#include <algorithm>

namespace p2pget {

namespace {

template <typename T>
std::vector<std::vector<T>> pages_of(const std::vector<T>& all, std::size_t page)
{
	std::vector<std::vector<T>> out;
	for (std::size_t at = 0; at < all.size(); at += page)
		out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at),
		                 all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + page)));
	return out;
}

} // namespace

void ServeHoldings::started(const p2p::FileEntry& f, std::uint32_t chunks)
{
	Entry e;
	e.file = f;
	e.chunks = chunks;
	files_.insert_or_assign(f.name, e);
	std::erase(removed_, f.name);
}

void ServeHoldings::grew(const std::string& name, std::uint32_t chunks)
{
	auto it = files_.find(name);
	if (it != files_.end() && !it->second.complete)
		it->second.chunks = std::max(it->second.chunks, chunks);
}

void ServeHoldings::completed(const std::string& name)
{
	auto it = files_.find(name);
	if (it == files_.end() || it->second.complete)
		return;
	it->second.complete = true;
	added_.push_back(it->second.file);
}

void ServeHoldings::dropped(const std::string& name)
{
	auto it = files_.find(name);
	if (it == files_.end())
		return;
	bool told = it->second.told || it->second.complete;
	std::erase_if(added_, [&](const p2p::FileEntry& f) { return f.name == name; });
	files_.erase(it);
	if (told)
		removed_.push_back(name);
}

bool ServeHoldings::partial_due(const Entry& e, double now) const
{
	if (e.complete)
		return false;
	if (!e.told)
		return true;
	return e.chunks > e.told_chunks && now - e.told_at >= kPartialEvery;
}

std::optional<double> ServeHoldings::next_due() const
{
	std::optional<double> next;
	for (auto& [name, e] : files_)
		if (!e.complete && e.told && e.chunks > e.told_chunks) {
			double at = e.told_at + kPartialEvery;
			next = next ? std::min(*next, at) : at;
		}
	return next;
}

void ServeHoldings::full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Message>& rest) const
{
	reg.port = port;
	reg.files.clear();
	std::vector<p2p::FileEntry> complete;
	std::vector<p2p::PartialEntry> partial;
	for (auto& [name, e] : files_) {
		if (e.complete)
			complete.push_back(e.file);
		else
			partial.push_back({e.file, e.chunks});
	}
	auto pages = pages_of(complete, kPage);
	for (std::size_t i = 0; i < pages.size(); i++) {
		if (i == 0)
			reg.files = pages[0];
		else
			rest.push_back(p2p::Update{pages[i], {}});
	}
	for (auto& page : pages_of(partial, kPage))
		rest.push_back(p2p::UpdatePartial{page});
}

bool ServeHoldings::has_changes() const
{
	double now = clock_();
	return !added_.empty() || !removed_.empty() ||
	       std::any_of(files_.begin(), files_.end(), [&](auto& kv) { return partial_due(kv.second, now); });
}

std::vector<p2p::Message> ServeHoldings::partial_pages(bool due_only, double now)
{
	std::vector<p2p::PartialEntry> entries;
	for (auto& [name, e] : files_) {
		if (e.complete || (due_only && !partial_due(e, now)))
			continue;
		entries.push_back({e.file, e.chunks});
		e.told = true;
		e.told_chunks = e.chunks;
		e.told_at = now;
	}
	std::vector<p2p::Message> out;
	for (auto& page : pages_of(entries, kPage))
		out.push_back(p2p::UpdatePartial{page});
	return out;
}

// Removals and completions first, then the counts that are due.
std::vector<p2p::Message> ServeHoldings::take_updates()
{
	std::vector<p2p::Message> out;
	auto added = pages_of(added_, kPage);
	auto removed = pages_of(removed_, kPage);
	for (std::size_t i = 0; i < std::max(added.size(), removed.size()); i++)
		out.push_back(p2p::Update{i < added.size() ? added[i] : std::vector<p2p::FileEntry>{},
		                          i < removed.size() ? removed[i] : std::vector<std::string>{}});
	added_.clear();
	removed_.clear();
	for (auto& m : partial_pages(true, clock_()))
		out.push_back(std::move(m));
	return out;
}

// A REGISTER (and its pages) just told the index everything.
void ServeHoldings::clear_changes()
{
	added_.clear();
	removed_.clear();
	partial_pages(false, clock_());
}

std::uint64_t ServeHoldings::features_needed(const p2p::Message& msg) const
{
	return std::holds_alternative<p2p::UpdatePartial>(msg) ? p2p::kFeaturePartialHolders : 0;
}

} // namespace p2pget
