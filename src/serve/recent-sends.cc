// Recent sends: see recent-sends.h.
#include "recent-sends.h"

namespace serve {

void RecentSends::sent(const std::string& name, std::uint32_t chunk, Session session, double now)
{
	forget_before(now - p2p::kSpareWindow);
	Key key{name, chunk};
	last_[key] = Last{session, now};
	order_.emplace_back(now, std::move(key));
}

bool RecentSends::taken(const std::string& name, std::uint32_t chunk, Session session, double now)
{
	forget_before(now - p2p::kSpareWindow);
	auto it = last_.find(Key{name, chunk});
	return it != last_.end() && it->second.session != session;
}

// Memory is bounded by what the upload can send in p2p::kSpareWindow.
void RecentSends::forget_before(double at)
{
	while (!order_.empty() && order_.front().first < at) {
		auto it = last_.find(order_.front().second);
		if (it != last_.end() && it->second.at < at)
			last_.erase(it);
		order_.pop_front();
	}
}

} // namespace serve
