// The shared token bucket and its members.
#include "upload-limit.h"

#include <algorithm>

namespace serve {

BucketPlan plan_bucket(std::uint64_t bytes_per_second)
{
	BucketPlan p;
	p.per_tick = std::max<std::uint64_t>(bytes_per_second / 10, 1);
	p.piece = std::clamp<std::uint64_t>(p.per_tick, 1024, 256 * 1024);
	return p;
}

void UploadLimit::CfgDeleter::operator()(ev_token_bucket_cfg* c) const { ev_token_bucket_cfg_free(c); }
void UploadLimit::GroupDeleter::operator()(bufferevent_rate_limit_group* g) const
{
	bufferevent_rate_limit_group_free(g);
}

UploadLimit::UploadLimit(event_base* base, std::uint64_t bytes_per_second)
	: rate_(bytes_per_second), plan_(plan_bucket(bytes_per_second))
{
	if (rate_ == 0)
		return;
	timeval tick = p2p::to_timeval(plan_.tick_seconds);
	cfg_.reset(ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, plan_.per_tick, plan_.per_tick, &tick));
	if (cfg_)
		group_.reset(bufferevent_rate_limit_group_new(base, cfg_.get()));
}

UploadLimit::~UploadLimit() = default;

UploadLimit::Membership UploadLimit::join(bufferevent* bev)
{
	if (!group_ || !bev || bufferevent_add_to_rate_limit_group(bev, group_.get()) != 0)
		return Membership();
	return Membership(bev);
}

UploadLimit::Membership& UploadLimit::Membership::operator=(Membership&& o) noexcept
{
	if (this != &o) {
		leave();
		bev_ = o.bev_;
		o.bev_ = nullptr;
	}
	return *this;
}

void UploadLimit::Membership::leave()
{
	if (bev_)
		bufferevent_remove_from_rate_limit_group(bev_);
	bev_ = nullptr;
}

} // namespace serve
