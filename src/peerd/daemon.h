// The whole peer, wired together on one event base: share keeper, dir
// watch, chunk server, index link, and the signals that stop or rescan it.
#pragma once

#include "counters.h"
#include "dir-watch.h"
#include "options.h"
#include "share-keeper.h"
#include "share-source.h"

#include "serve/chunk-server.h"

#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/identity.h"
#include "p2p/metrics-server.h"
#include "p2p/registration-link.h"

#include <memory>
#include <optional>
#include <string>

namespace peerd {

class Daemon {
public:
	Daemon(const Options& options, event_base* base);
	Daemon(const Daemon&) = delete;
	Daemon& operator=(const Daemon&) = delete;
	~Daemon();

	// Opens DIR, binds the port, resolves the index, starts everything.
	// On failure `error` is a line for the user ("what went wrong").
	bool start(std::string* error);
	// Exit status once the loop has ended.
	int exit_status() const { return exit_status_; }

private:
	static void signal_cb(evutil_socket_t sig, short, void* self);
	static void refusals_cb(evutil_socket_t, short, void* self);
	void log_refusals(bool force);
	void on_signal(int sig);
	void shutdown();
	bool open_share(std::string* error);
	bool load_identity(std::string* error);
	void start_keeper();
	bool start_server(int lfd, std::string* error);
	void watch_signals();
	bool start_metrics(std::string* error);
	// GET /metrics: the STATS counters as Prometheus series (peer-metrics.cc).
	std::string metrics_text() const;

	Options options_;
	event_base* base_;
	int root_fd_ = -1;
	Counters counters_;
	std::optional<p2p::SecretKey> secret_;
	std::optional<p2p::Identity> identity_;
	bool stopping_ = false;
	int exit_status_ = 0;
	std::uint64_t logged_refusals_ = 0;
	p2p::EventPtr sigint_, sigterm_, sighup_, sigusr1_, refusals_ev_;
	std::unique_ptr<ShareKeeper> keeper_;
	std::unique_ptr<DirWatch> watch_;
	std::unique_ptr<p2p::RegistrationLink> link_;
	std::unique_ptr<ShareSource> source_;
	std::unique_ptr<serve::ChunkServer> server_;
	std::unique_ptr<p2p::MetricsServer> metrics_;
};

} // namespace peerd
