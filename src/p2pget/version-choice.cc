// The version rule; see version-choice.h.
#include "version-choice.h"

#include <map>

namespace p2pget {

VersionChoice choose_version(const std::vector<p2p::PeerHolding>& peers)
{
	std::map<std::pair<std::uint64_t, p2p::Hash>, std::vector<const p2p::PeerHolding*>> versions;
	for (auto& p : peers)
		versions[{p.size, p.hash}].push_back(&p);
	VersionChoice out;
	out.versions = versions.size();
	if (versions.empty())
		return out;
	auto best = versions.begin();
	for (auto it = versions.begin(); it != versions.end(); ++it)
		if (it->second.size() > best->second.size() ||
		    (it->second.size() == best->second.size() && it->first.first > best->first.first))
			best = it;
	out.size = best->first.first;
	out.hash = best->first.second;
	for (auto* p : best->second)
		out.holders.push_back(*p);
	return out;
}

} // namespace p2pget
