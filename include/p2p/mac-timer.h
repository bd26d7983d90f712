// The 2 s wait for a frame's MAC, for transports that keep no timer of
// their own per connection: one event, made the first time a frame waits
// for its MAC and armed only while one does, so the connections that never
// wait (nearly all) cost nothing.
#pragma once

#include "p2p/ev.h"
#include "p2p/frame-step.h"

#include <algorithm>
#include <functional>

namespace p2p {

class MacTimer {
public:
	MacTimer(event_base* base, std::function<void()> fire) : base_(base), fire_(std::move(fire)) {}
	MacTimer(const MacTimer&) = delete;
	MacTimer& operator=(const MacTimer&) = delete;

	// Armed for `watch`'s due time while a frame waits for its MAC; else off.
	void follow(const FrameWatch& watch, double now)
	{
		if (!watch.mac_since()) {
			stop();
			return;
		}
		if (armed_)
			return;
		if (!ev_)
			ev_.reset(evtimer_new(base_, fire_cb, this));
		timeval tv = to_timeval(std::max(watch.due() - now, 0.0));
		armed_ = ev_ && evtimer_add(ev_.get(), &tv) == 0;
	}
	void stop()
	{
		if (armed_)
			event_del(ev_.get());
		armed_ = false;
	}

private:
	static void fire_cb(evutil_socket_t, short, void* self)
	{
		auto* t = static_cast<MacTimer*>(self);
		t->armed_ = false;
		t->fire_();
	}

	event_base* base_;
	std::function<void()> fire_;
	EventPtr ev_;
	bool armed_ = false;
};

} // namespace p2p
