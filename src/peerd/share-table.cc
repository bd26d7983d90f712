// The share table and its paging into Register/Update frames.
#include "share-table.h"

#include "p2p/codec.h"

namespace peerd {

const SharedFile* ShareTable::find(const std::string& name) const
{
	auto it = files_.find(name);
	return it == files_.end() ? nullptr : &it->second;
}

void ShareTable::put(SharedFile file)
{
	std::string name = file.name;
	files_[name] = std::move(file);
	removed_.erase(name);
	added_.insert(std::move(name));
}

bool ShareTable::erase(const std::string& name)
{
	if (files_.erase(name) == 0)
		return false;
	added_.erase(name);
	removed_.insert(name);
	return true;
}

std::vector<std::string> ShareTable::names_under(const std::string& dir) const
{
	std::vector<std::string> out;
	if (dir.empty()) {
		for (auto& [name, f] : files_)
			out.push_back(name);
		return out;
	}
	if (files_.count(dir))
		out.push_back(dir);
	std::string prefix = dir + "/";
	for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix); ++it)
		out.push_back(it->first);
	return out;
}

void ShareTable::clear_changes()
{
	added_.clear();
	removed_.clear();
}

static p2p::FileEntry entry_of(const SharedFile& f) { return {f.name, f.st.size, f.content}; }

std::vector<p2p::Message> ShareTable::take_updates()
{
	std::vector<p2p::Message> pages;
	p2p::Update page;
	std::size_t used = 0;
	auto flush_if_full = [&](std::size_t more) {
		if (used + more > kPageBudget) {
			pages.push_back(std::move(page));
			page = {};
			used = 0;
		}
		used += more;
	};
	for (auto& name : added_) {
		auto it = files_.find(name);
		if (it == files_.end())
			continue;
		flush_if_full(p2p::file_entry_wire_size(name.size()));
		page.added.push_back(entry_of(it->second));
	}
	for (auto& name : removed_) {
		flush_if_full(2 + name.size());
		page.removed.push_back(name);
	}
	if (!page.added.empty() || !page.removed.empty())
		pages.push_back(std::move(page));
	clear_changes();
	return pages;
}

void ShareTable::full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Update>& rest) const
{
	reg = {};
	reg.port = port;
	rest.clear();
	std::size_t used = 0;
	bool first = true;
	p2p::Update page;
	for (auto& [name, f] : files_) {
		std::size_t more = p2p::file_entry_wire_size(name.size());
		if (used + more > kPageBudget) {
			if (!first)
				rest.push_back(std::move(page));
			page = {};
			first = false;
			used = 0;
		}
		used += more;
		if (first)
			reg.files.push_back(entry_of(f));
		else
			page.added.push_back(entry_of(f));
	}
	if (!first && !page.added.empty())
		rest.push_back(std::move(page));
}

void ShareTable::full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Message>& rest) const
{
	std::vector<p2p::Update> pages;
	full_pages(port, reg, pages);
	rest.assign(std::make_move_iterator(pages.begin()), std::make_move_iterator(pages.end()));
}

} // namespace peerd
