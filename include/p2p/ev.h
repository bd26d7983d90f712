// One RAII owner per libevent object. Sessions that libevent points at are
// neither copied nor moved; declare the BufferEventPtr member last so it is
// freed first, before the state its callbacks use.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <memory>

namespace p2p {

struct EventBaseDeleter {
	void operator()(event_base* b) const { event_base_free(b); }
};
// bufferevent_free does not flush pending output; with BEV_OPT_CLOSE_ON_FREE
// it closes the fd.
struct BufferEventDeleter {
	void operator()(bufferevent* b) const { bufferevent_free(b); }
};
// With LEV_OPT_CLOSE_ON_FREE the listener closes its socket.
struct ListenerDeleter {
	void operator()(evconnlistener* l) const { evconnlistener_free(l); }
};
// event_free deletes a pending event before freeing it.
struct EventDeleter {
	void operator()(event* e) const { event_free(e); }
};
struct EvBufferDeleter {
	void operator()(evbuffer* b) const { evbuffer_free(b); }
};

using EventBasePtr = std::unique_ptr<event_base, EventBaseDeleter>;
using BufferEventPtr = std::unique_ptr<bufferevent, BufferEventDeleter>;
using ListenerPtr = std::unique_ptr<evconnlistener, ListenerDeleter>;
using EventPtr = std::unique_ptr<event, EventDeleter>;
using EvBufferPtr = std::unique_ptr<evbuffer, EvBufferDeleter>;

inline timeval to_timeval(double seconds)
{
	timeval tv;
	tv.tv_sec = static_cast<time_t>(seconds);
	tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
	return tv;
}

} // namespace p2p
