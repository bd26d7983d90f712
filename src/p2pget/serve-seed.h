// Seeding after the downloads: the engine's loop runs on for the chunk
// server alone, as long as SeedPolicy says, asking the index every second
// whether other downloaders of our files are still partial. SIGINT and
// SIGTERM end it at once.
#pragma once

#include "index-link.h"
#include "seed-policy.h"
#include "serve-node.h"

#include "serve/chunk-server.h"

#include "p2p/ev.h"

#include <optional>
#include <vector>

namespace p2pget {

class SeedRun {
public:
	// Lookups about at most this many files a round, so the index's load
	// does not grow with the number of files a p2pget fetched.
	static constexpr std::size_t kAskPerRound = 4;
	static constexpr double kTick = 0.25;

	SeedRun(event_base* base, serve::ChunkServer& server, const serve::Counters& counters,
	        const std::vector<SeededFile>& files, const ServeConfig& config);
	SeedRun(const SeedRun&) = delete;
	SeedRun& operator=(const SeedRun&) = delete;
	~SeedRun();

	// Runs until the policy says stop; the signal that ended it, or 0.
	int run(double done_at);

private:
	static void tick_cb(evutil_socket_t, short, void* self);
	static void signal_cb(evutil_socket_t sig, short, void* self);
	void on_tick();
	void ask_round();
	void on_holders(const p2p::Message* reply, std::size_t file);

	event_base* base_;
	serve::ChunkServer& server_;
	const serve::Counters& counters_;
	const std::vector<SeededFile>& files_;
	const ServeConfig& config_;
	std::optional<SeedPolicy> policy_;
	std::uint64_t last_bytes_ = 0;
	std::size_t next_file_ = 0;
	std::size_t pending_ = 0;   // answers owed for this round
	bool round_found_ = false;  // some answer of this round lists others
	double next_ask_ = 0;
	int signal_ = 0;
	bool stopped_ = false; // the loop was told to stop
	IndexLink index_;
	p2p::EventPtr tick_, sigint_, sigterm_;
};

} // namespace p2pget
