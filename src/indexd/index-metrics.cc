// indexd's GET /metrics: what STATS says, as Prometheus series.
#include "index-server.h"

#include "async-store.h"

#include "p2p/metrics.h"

#include <string_view>

namespace indexd {
namespace {

// Requests by type, as the series p2p_index_requests_total{type=...}.
struct RequestCounter {
	const char* type;
	std::uint64_t Counters::*count;
};
constexpr RequestCounter kRequests[] = {
	{"lookup", &Counters::lookups},   {"list", &Counters::lists},         {"stats", &Counters::stats},
	{"ping", &Counters::pings},       {"register", &Counters::registers}, {"update", &Counters::updates},
	{"unregister", &Counters::unregisters},
};

// Counters that are gauges: they go down as well as up.
bool is_gauge(std::string_view name) { return name == "connections_open"; }

} // namespace

std::string IndexServer::metrics_text() const
{
	StoreStats s = store_.stats();
	p2p::PromText t;
	t.gauge("p2p_index_peers", "Live peers registered.", static_cast<double>(s.peers));
	t.gauge("p2p_index_files", "Registrations: (peer, file) pairs held.", static_cast<double>(s.registrations));
	t.gauge("p2p_index_names", "Distinct file names held.", static_cast<double>(s.names));
	t.gauge("p2p_index_ttl_seconds", "Seconds of silence before a peer is dropped.", opts_.ttl);
	for (auto& r : kRequests)
		t.counter("p2p_index_requests_total", "Requests answered, by type.", counters_.*r.count, {{"type", r.type}});
	for (auto& c : counter_list()) {
		std::string name = std::string("p2p_index_") + c.name;
		if (is_gauge(c.name))
			t.gauge(name, c.help, static_cast<double>(counters_.*c.field));
		else
			t.counter(name + "_total", c.help, counters_.*c.field);
	}
	t.histogram("p2p_index_request_seconds",
	            "Time from reading a request to handing its reply to the kernel (a batch's requests share it).",
	            latency_.bounds(), latency_.counts(), latency_.sum());
	t.gauge("p2p_index_uptime_seconds", "Seconds since indexd started.", now() - started_);
	AsyncStore* a = const_cast<IndexStore&>(store_).async();
	t.gauge("p2p_index_store_redis", "1 when the index lives in Redis, 0 in memory.", a ? 1 : 0);
	if (a) {
		t.gauge("p2p_index_redis_connected", "1 while Redis is connected.", a->connected() ? 1 : 0);
		t.gauge("p2p_index_redis_in_flight", "Commands sent to Redis, not yet answered.",
		        static_cast<double>(a->in_flight()));
		t.counter("p2p_index_redis_errors_total", "Redis connection losses and error replies.", a->errors());
	}
	return t.text();
}

} // namespace indexd
