// What this peer shares: name -> stat + chunk hashes + content hash, and the
// changes not yet told to the index. Pure: no I/O.
#pragma once

#include "share-scan.h"

#include "p2p/message.h"
#include "p2p/registration-link.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace peerd {

struct SharedFile {
	std::string name;
	FileStat st;
	std::vector<p2p::Hash> chunks;
	p2p::Hash content{};
};

class ShareTable final : public p2p::Holdings {
public:
	const SharedFile* find(const std::string& name) const;
	// Adds or replaces; recorded as a change for the index.
	void put(SharedFile file);
	// Removes `name` if shared; returns whether it was.
	bool erase(const std::string& name);
	// Every shared name equal to `dir` or under `dir`/ (for vanished folders).
	std::vector<std::string> names_under(const std::string& dir) const;

	std::size_t size() const override { return files_.size(); }
	const std::map<std::string, SharedFile>& files() const { return files_; }

	bool has_changes() const override { return !added_.empty() || !removed_.empty(); }
	// Forgets pending changes (a full register supersedes them).
	void clear_changes() override;
	// Pending changes as Update frames that each fit in one payload; clears them.
	std::vector<p2p::Message> take_updates() override;
	// The whole table as a Register (first page) plus Update pages.
	void full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Update>& rest) const;
	void full_pages(std::uint16_t port, p2p::Register& reg, std::vector<p2p::Message>& rest) const override;

private:
	std::map<std::string, SharedFile> files_;
	std::set<std::string> added_, removed_;
};

// Payload budget of one Register/Update page (counts and port included).
inline constexpr std::size_t kPageBudget = p2p::kMaxPayload - 64;

} // namespace peerd
