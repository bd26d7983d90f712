// Work for the next turn of the loop, owned by the object it belongs to.
// Unlike event_base_once, both are cancelled by destroying them: nothing
// runs, and nothing leaks, when their owner goes first or the loop stops.
#pragma once

#include "p2p/ev.h"

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace p2p {

// Runs `fn` once from the loop after schedule(), however often it is
// scheduled before then.
class Deferred {
public:
	Deferred(event_base* base, std::function<void()> fn)
		: fn_(std::move(fn)), ev_(event_new(base, -1, 0, run_cb, this))
	{
	}
	Deferred(const Deferred&) = delete;
	Deferred& operator=(const Deferred&) = delete;

	void schedule()
	{
		if (ev_ && !event_pending(ev_.get(), EV_TIMEOUT, nullptr))
			event_active(ev_.get(), EV_TIMEOUT, 0);
	}
	void cancel()
	{
		if (ev_)
			event_del(ev_.get());
	}

private:
	static void run_cb(evutil_socket_t, short, void* self) { static_cast<Deferred*>(self)->fn_(); }

	std::function<void()> fn_;
	EventPtr ev_;
};

// Frees closed connections on the next turn of the loop, when none of their
// callbacks is on the stack; whatever is still waiting at exit is freed with
// the reaper.
template <typename T>
class Reaper {
public:
	explicit Reaper(event_base* base) : reap_(base, [this] { dying_.clear(); }) {}

	void bury(std::unique_ptr<T> obj)
	{
		if (!obj)
			return;
		dying_.push_back(std::move(obj));
		reap_.schedule();
	}
	// Frees now (the owner is being destroyed, no callback can be running).
	void clear() { dying_.clear(); }

private:
	std::vector<std::unique_ptr<T>> dying_;
	Deferred reap_;
};

} // namespace p2p
