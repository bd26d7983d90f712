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
                    const std::optional<p2p::IpBytes>& self_host, std::uint16_t self_port)
{
	return std::any_of(reply.peers.begin(), reply.peers.end(), [&](const p2p::PeerHolding& h) {
		bool self = h.port == self_port && (!self_host || h.host == *self_host);
		return !self && h.chunks != p2p::kCompleteHolding && h.size == size && h.hash == hash;
	});
}

} // namespace p2pget
