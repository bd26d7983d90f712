// `--metrics [ADDR:]PORT`: HTTP GET /metrics in the Prometheus text format,
// through libevent's own evhttp on the program's reactor. Anything else
// gets 404 (another path) or 501 (another method, evhttp's answer); bad HTTP
// closes that connection only.
#pragma once

#include "p2p/address.h"
#include "p2p/ev.h"

#include <event2/http.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace p2p {

// "9100" (every interface), "127.0.0.1:9100", "[::1]:9100"; nullopt when
// malformed or the port is 0.
std::optional<HostPort> parse_metrics_address(std::string_view text);

struct EvHttpDeleter {
	void operator()(evhttp* h) const { evhttp_free(h); }
};

class MetricsServer {
public:
	// `render` gives the body of each GET /metrics.
	MetricsServer(event_base* base, std::function<std::string()> render);
	MetricsServer(const MetricsServer&) = delete;
	MetricsServer& operator=(const MetricsServer&) = delete;

	// Binds and listens; false with `error`.
	bool listen(const HostPort& where, std::string* error);

private:
	static void request_cb(evhttp_request* req, void* self);
	void on_request(evhttp_request* req);

	std::function<std::string()> render_;
	std::unique_ptr<evhttp, EvHttpDeleter> http_;
};

} // namespace p2p
