// p2pget's serving side: a chunk server on its own port, over the files
// being downloaded (serve-source.h), told by the downloads what they
// verify (download-observer.h) and announcing it to clients that asked
// for chunk maps. After the downloads it seeds as SeedPolicy says.
// Everything runs on the engine's loop.
#pragma once

#include "download-observer.h"
#include "serve-holdings.h"
#include "serve-source.h"

#include "serve/chunk-server.h"

#include "p2p/address.h"
#include "p2p/ev.h"
#include "p2p/frame-auth.h"
#include "p2p/identity.h"
#include "p2p/registration-link.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

struct ServeConfig {
	std::uint16_t port = 0;         // 0: any free port
	std::uint64_t upload_limit = 0; // bytes/s for all uploads together; 0: none
	double seed_time = 30;          // at most this long after the downloads
	std::vector<p2p::HostPort> indexes; // registered at, and asked about other holders while seeding
	double timeout = 15;
	std::optional<p2p::SecretKey> secret; // closed cluster
	std::string identity_file;            // empty: a new key for this run
	bool register_at_index = true;        // as a partial holder
	// Whether a holder the index lists is this very process.
	std::function<bool(const p2p::PeerHolding&)> is_self = [](const p2p::PeerHolding&) { return false; };
};

// A file done and served whole, for the seeding decision.
struct SeededFile {
	std::string name;
	std::uint64_t size = 0;
	p2p::Hash hash{};
};

class ServeNode : public DownloadObserver {
public:
	// Listens at once; ok() is false (and `error` says why) when it cannot.
	ServeNode(event_base* base, ServeConfig config, std::string& error);
	ServeNode(const ServeNode&) = delete;
	ServeNode& operator=(const ServeNode&) = delete;
	~ServeNode() override;

	bool ok() const { return server_ != nullptr; }
	std::uint16_t port() const { return port_; }
	const serve::Counters& counters() const { return counters_; }

	void manifest_ready(const Download& d) override;
	void chunk_verified(const Download& d, std::uint32_t chunk) override;
	void chunk_fetching(const Download& d, std::uint32_t chunk) override;
	void file_finished(const Download& d) override;
	void file_failed(const Download& d) override;

	// After the downloads: serves on while the seed policy says so, or
	// until SIGINT/SIGTERM, then unregisters; returns that signal, or 0.
	int seed();
	bool registered() const { return link_ && link_->registered(); }

private:
	bool start_link(std::string& error);
	void ensure_link();
	// Counts held back by the 2 s rule go out when due.
	void schedule_counts();
	static void due_cb(evutil_socket_t, short, void* self);
	void unregister();

	event_base* base_;
	ServeConfig config_;
	std::uint16_t port_ = 0;
	serve::Counters counters_;
	DownloadSource source_;
	std::vector<SeededFile> done_;
	ServeHoldings holdings_;
	p2p::LinkCounters link_counters_;
	std::optional<p2p::Identity> identity_;
	std::vector<p2p::SockAddr> index_addrs_; // those that resolve, in order
	p2p::EventPtr due_ev_;
	std::unique_ptr<p2p::RegistrationLink> link_;
	std::unique_ptr<serve::ChunkServer> server_;
};

} // namespace p2pget
