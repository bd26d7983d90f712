// The seeding decision; see seed-policy.h.
#include "seed-policy.h"

#include <algorithm>

namespace p2pget {

bool SeedPolicy::keep(double now) const
{
	double since_done = now - done_at_;
	if (since_done >= seed_time_)
		return false;
	if (now - last_served_ < kRecent)
		return true;
	if (!others_)
		return since_done < kAnswerWait;
	return *others_;
}

std::string SeedPolicy::why(double now) const
{
	if (now - done_at_ >= seed_time_)
		return "seed time over";
	if (now - last_served_ < kRecent)
		return "serving";
	if (!others_)
		return now - done_at_ < kAnswerWait ? "asking the index" : "no answer from the index";
	return *others_ ? "other downloaders are still partial" : "nobody else is downloading";
}

bool others_partial(const p2p::HoldersReply& reply, std::uint64_t size, const p2p::Hash& hash,
                    const std::function<bool(const p2p::PeerHolding&)>& is_self)
{
	return std::any_of(reply.peers.begin(), reply.peers.end(), [&](const p2p::PeerHolding& h) {
		return !is_self(h) && h.chunks != p2p::kCompleteHolding && h.size == size && h.hash == hash;
	});
}

} // namespace p2pget
