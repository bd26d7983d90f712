// peerd's GET /metrics: what STATS says, as Prometheus series.
#include "daemon.h"

#include "p2p/metrics.h"

namespace peerd {

bool Daemon::start_metrics(std::string* error)
{
	if (!options_.metrics)
		return true;
	metrics_ = std::make_unique<p2p::MetricsServer>(base_, [this] { return metrics_text(); });
	return metrics_->listen(*options_.metrics, error);
}

std::string Daemon::metrics_text() const
{
	p2p::PromText t;
	t.gauge("p2p_peer_files_shared", "Files shared now, hashed and announced.",
	        static_cast<double>(keeper_->table().size()));
	t.gauge("p2p_peer_files_hashing", "Files being hashed now.", static_cast<double>(keeper_->hashing()));
	t.gauge("p2p_peer_index_registered", "1 while the index has acknowledged our registration.",
	        link_ && link_->registered() ? 1 : 0);
	t.counter("p2p_peer_bytes_sent_total", "Chunk bytes sent.", counters_.server.bytes_served);
	t.counter("p2p_peer_chunks_served_total", "Chunk requests answered with data.", counters_.server.chunks_served);
	// Each family once: a scraper refuses a page that names one twice.
	for (auto& [name, value] : counters_.pairs())
		if (name != "chunks_served")
			t.counter("p2p_peer_" + name + "_total", "The STATS counter " + name + " (see peerd(8)).", value);
	return t.text();
}

} // namespace peerd
