// Send turns: see send-turns.h.
#include "send-turns.h"

#include <algorithm>
#include <cmath>

namespace serve {

void SendTurns::ask(Id id, double now)
{
	if (turns_.count(id) || std::find(line_.begin(), line_.end(), id) != line_.end())
		return;
	if (!contended()) {
		slots_ = 1;
		changed_at_ = now;
	}
	line_.push_back(id);
}

void SendTurns::leave(Id id)
{
	turns_.erase(id);
	line_.erase(std::remove(line_.begin(), line_.end(), id), line_.end());
}

void SendTurns::done(Id id, double now)
{
	if (!turns_.erase(id))
		return;
	// We ran near the best rate with one more sender: try one fewer.
	if (full() && slots_ > 1 && now - changed_at_ >= kSettle) {
		slots_--;
		changed_at_ = now;
	}
}

void SendTurns::acked(std::uint64_t total, double now)
{
	samples_.emplace_back(now, total);
	while (samples_.size() > 2 && samples_[1].first <= now - kWindow)
		samples_.pop_front();
	auto [t0, b0] = samples_.front();
	if (now - t0 < kWindow / 2)
		return; // too short a span to judge a rate by
	rate_ = static_cast<double>(total - std::min(total, b0)) / (now - t0);
	peak_ *= std::exp2(-(now - peak_at_) / kPeakHalfLife);
	peak_at_ = now;
	peak_ = std::max(peak_, rate_);
}

std::vector<SendTurns::Id> SendTurns::admit(double now)
{
	std::vector<Id> in;
	if (line_.empty())
		return in;
	// Only a link that every sender uses is judged short of senders.
	bool all_used = turns_.size() >= slots_;
	bool short_of_link = starved() && now - changed_at_ >= kSettle;
	bool probe = now - changed_at_ >= kProbe;
	if (all_used && !turns_.empty() && (short_of_link || probe)) {
		// Far short of the link: double, else one more.
		slots_ += rate_ < peak_ / 2 ? slots_ : 1;
		changed_at_ = now;
	}
	while (!line_.empty() && turns_.size() < slots_) {
		in.push_back(line_.front());
		turns_.insert(line_.front());
		line_.pop_front();
	}
	return in;
}

bool SendTurns::turn_over(std::uint64_t unacked) const
{
	auto tail = std::max<double>(static_cast<double>(kMinTail), peak_ * kTailTime);
	return static_cast<double>(unacked) <= tail;
}

} // namespace serve
