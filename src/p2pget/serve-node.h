// p2pget's serving side: a chunk server on its own port, over the files
// being downloaded (serve-source.h), told by the downloads what they
// verify (download-observer.h) and announcing it to clients that asked
// for chunk maps. After the downloads it seeds as SeedPolicy says.
// Everything runs on the engine's loop.
#pragma once

#include "download-observer.h"
#include "serve-source.h"

#include "serve/chunk-server.h"

#include "p2p/address.h"
#include "p2p/ev.h"
#include "p2p/frame-auth.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

struct ServeConfig {
	std::uint16_t port = 0;         // 0: any free port
	std::uint64_t upload_limit = 0; // bytes/s for all uploads together; 0: none
	double seed_time = 30;          // at most this long after the downloads
	p2p::HostPort index;            // asked about other holders while seeding
	double timeout = 15;
	std::optional<p2p::SecretKey> secret; // closed cluster
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
	// until SIGINT/SIGTERM; returns that signal, or 0.
	int seed();

private:
	event_base* base_;
	ServeConfig config_;
	std::uint16_t port_ = 0;
	serve::Counters counters_;
	DownloadSource source_{counters_};
	std::vector<SeededFile> done_;
	std::unique_ptr<serve::ChunkServer> server_;
};

} // namespace p2pget
