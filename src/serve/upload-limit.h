// The upload rate limit shared by every session of a chunk server: one
// libevent token-bucket group. A session joins it through a Membership,
// which leaves the group when it goes, so the group is never freed with
// members (libevent asserts, and a freed bufferevent leaves it only in a
// finalizer that runs on a later turn of the loop).
#pragma once

#include "p2p/ev.h"

#include <cstdint>
#include <memory>

struct ev_token_bucket_cfg;
struct bufferevent_rate_limit_group;

namespace serve {

// How the bucket is cut: a 100 ms tick keeps the rate smooth and the bucket
// holds one tick; a chunk goes to the kernel in pieces of about one tick's
// budget (libevent hands a whole file segment to one sendfile call, whatever
// the bucket allows). Pure.
struct BucketPlan {
	double tick_seconds = 0.1;
	std::uint64_t per_tick = 0; // bytes
	std::uint64_t piece = 0;    // bytes per file segment piece
};
BucketPlan plan_bucket(std::uint64_t bytes_per_second);

class UploadLimit {
public:
	// 0: no limit.
	UploadLimit(event_base* base, std::uint64_t bytes_per_second);
	UploadLimit(const UploadLimit&) = delete;
	UploadLimit& operator=(const UploadLimit&) = delete;
	~UploadLimit();

	// A limit was asked for but libevent could not set it up.
	bool failed() const { return rate_ > 0 && !group_; }
	// Largest piece of a chunk to hand to the kernel at once; 0: no limit,
	// hand it all.
	std::uint64_t piece_size() const { return group_ ? plan_.piece : 0; }

	// One bufferevent's place in the group, left when this goes (or on
	// leave()). Must go before the UploadLimit and before the bufferevent.
	class Membership {
	public:
		Membership() = default;
		Membership(Membership&& o) noexcept : bev_(o.bev_) { o.bev_ = nullptr; }
		Membership& operator=(Membership&& o) noexcept;
		Membership(const Membership&) = delete;
		Membership& operator=(const Membership&) = delete;
		~Membership() { leave(); }
		void leave();

	private:
		friend class UploadLimit;
		explicit Membership(bufferevent* bev) : bev_(bev) {}
		bufferevent* bev_ = nullptr;
	};
	// Puts `bev` under the limit (nothing when there is none).
	Membership join(bufferevent* bev);

private:
	struct CfgDeleter {
		void operator()(ev_token_bucket_cfg* c) const;
	};
	struct GroupDeleter {
		void operator()(bufferevent_rate_limit_group* g) const;
	};

	std::uint64_t rate_;
	BucketPlan plan_;
	std::unique_ptr<ev_token_bucket_cfg, CfgDeleter> cfg_;
	std::unique_ptr<bufferevent_rate_limit_group, GroupDeleter> group_;
};

} // namespace serve
