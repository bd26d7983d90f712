// What a serving p2pget tells the index (p2p-protocol.7, Partial holders):
// a REGISTER with its port and its finished files, an UPDATE_PARTIAL for
// each file when it starts serving it and then at most every 2 s while
// the count grows (only once the index stated kFeaturePartialHolders), an
// UPDATE that adds a file once it is complete and removes one that failed.
// Pure: the clock is passed in; the registration link sends the frames.
#pragma once

#include "p2p/registration-link.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace p2pget {

class ServeHoldings : public p2p::Holdings {
public:
	// A partial count goes out at most this often per file.
	static constexpr double kPartialEvery = 2.0;
	// Entries per frame: 200 names of at most 4 KiB fit in one payload.
	static constexpr std::size_t kPage = 200;

	explicit ServeHoldings(std::function<double()> clock) : clock_(std::move(clock)) {}

	// Serving `f` from now on, `chunks` of it verified: told at once.
	void started(const p2p::FileEntry& f, std::uint32_t chunks);
	// Its verified count is now `chunks`: told within kPartialEvery.
	void grew(const std::string& name, std::uint32_t chunks);
	// Every chunk verified: an UPDATE adds it as complete.
	void completed(const std::string& name);
	// Served no more: an UPDATE removes it.
	void dropped(const std::string& name);
	// When the next held-back count may go (nullopt: none is waiting).
	std::optional<double> next_due() const;

	void full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Message>& rest) const override;
	bool has_changes() const override;
	std::vector<p2p::Message> take_updates() override;
	void clear_changes() override;
	std::size_t size() const override { return files_.size(); }
	std::uint64_t features_needed(const p2p::Message& msg) const override;

private:
	struct Entry {
		p2p::FileEntry file;
		std::uint32_t chunks = 0;
		bool complete = false;
		bool told = false;          // the index heard of it since the last REGISTER
		std::uint32_t told_chunks = 0;
		double told_at = -1e18;
	};
	bool partial_due(const Entry& e, double now) const;
	std::vector<p2p::Message> partial_pages(bool due_only, double now);

	std::function<double()> clock_;
	std::map<std::string, Entry> files_;
	std::vector<p2p::FileEntry> added_;  // completed, not yet told
	std::vector<std::string> removed_;   // dropped, not yet told
};

} // namespace p2pget
