// The version rule; see version-choice.h.
#include "version-choice.h"

#include <map>

namespace p2pget {

VersionChoice choose_version(const std::vector<p2p::PeerHolding>& peers)
{
	// Votes are complete holdings; only partial ones: they vote instead.
	bool any_complete = false;
	for (auto& p : peers)
		any_complete = any_complete || p.complete();
	using Version = std::pair<std::uint64_t, p2p::Hash>;
	std::map<Version, std::size_t> votes;
	for (auto& p : peers)
		if (p.complete() || !any_complete)
			votes[{p.size, p.hash}]++;
	VersionChoice out;
	out.versions = votes.size();
	if (votes.empty())
		return out;
	auto best = votes.begin();
	for (auto it = votes.begin(); it != votes.end(); ++it)
		if (it->second > best->second || (it->second == best->second && it->first.first > best->first.first))
			best = it;
	out.size = best->first.first;
	out.hash = best->first.second;
	for (auto& p : peers)
		if (p.size == out.size && p.hash == out.hash)
			out.holders.push_back(p);
	return out;
}

} // namespace p2pget
