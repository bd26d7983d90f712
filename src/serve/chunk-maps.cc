// Chunk maps and subscriptions; see chunk-maps.h.
#include "chunk-maps.h"

#include <algorithm>

namespace serve {

std::optional<Refusal> check_have(const ServedFile* f, const p2p::HaveRequest& req)
{
	if (!f)
		return Refusal{p2p::ErrorCode::NotFound, req.name + ": not shared here"};
	if (f->size != req.size || f->content != req.content_hash)
		return Refusal{p2p::ErrorCode::Changed, req.name + ": another version is shared here"};
	return std::nullopt;
}

p2p::HaveMap have_map(const ServedFile& f, const std::string& name)
{
	p2p::HaveMap m;
	m.name = name;
	m.have.resize(f.chunk_count());
	for (std::uint32_t c = 0; c < f.chunk_count(); c++)
		m.have[c] = f.chunk_verified(c);
	return m;
}

bool HaveSubscriptions::add(const p2p::HaveRequest& req)
{
	auto same_name = [&](const p2p::HaveRequest& s) { return s.name == req.name; };
	if (auto it = std::find_if(subs_.begin(), subs_.end(), same_name); it != subs_.end()) {
		*it = req; // a name is served in one version: the latest ask wins
		return true;
	}
	if (subs_.size() >= kMax)
		return false;
	subs_.push_back(req);
	return true;
}

bool HaveSubscriptions::wants(const std::string& name, std::uint64_t size, const p2p::Hash& content) const
{
	return std::any_of(subs_.begin(), subs_.end(), [&](const p2p::HaveRequest& s) {
		return s.name == name && s.size == size && s.content_hash == content;
	});
}

} // namespace serve
