// What a downloading p2pget serves: the files it is downloading, only the
// chunks it has verified, only from each download's own partial file (a
// dup of the descriptor PartialFile opened, taken when the manifest is
// ready, so it follows the file through its final rename), never any
// other path. MANIFEST pages come from the download's own chunk hashes.
#pragma once

#include "serve/serve-counters.h"
#include "serve/serve-source.h"

#include <map>
#include <string>
#include <vector>

namespace p2pget {

// One descriptor, closed with its owner.
class OwnedFd {
public:
	explicit OwnedFd(int fd = -1) : fd_(fd) {}
	OwnedFd(OwnedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
	OwnedFd& operator=(OwnedFd&& o) noexcept;
	OwnedFd(const OwnedFd&) = delete;
	OwnedFd& operator=(const OwnedFd&) = delete;
	~OwnedFd();
	int get() const { return fd_; }

private:
	int fd_;
};

// A version of a file, as the manifest described it.
struct ServedVersion {
	std::uint64_t size = 0;
	p2p::Hash content{};
	std::uint32_t chunk_size = 0;
	std::vector<p2p::Hash> chunk_hashes;
};

class DownloadSource : public serve::ServeSource {
public:
	// `claim_life`: how long a FETCHING is listed without its chunk being
	// verified (the chunk timeout, after which the fetch has failed).
	DownloadSource(const serve::Counters& counters, double claim_life)
		: counters_(counters), claim_life_(claim_life)
	{
	}

	// Starts serving `name` (none of its chunks yet) from a dup of `fd`;
	// false with errno when the dup fails.
	bool add(const std::string& name, ServedVersion version, int fd);
	// Marks a chunk verified; false when it was already, or is unknown.
	bool verify(const std::string& name, std::uint32_t chunk);
	// Its owner asked a complete holder for `chunk` at `now`: listed by
	// fetching() until it is verified or `claim_life` has passed.
	void fetch(const std::string& name, std::uint32_t chunk, double now);
	// Every chunk is verified now.
	void complete(const std::string& name);
	void remove(const std::string& name);
	// How many chunks of `name` are verified (0 when not served).
	std::uint32_t verified_count(const std::string& name) const;
	std::size_t files() const { return files_.size(); }

	std::optional<serve::ServedFile> find(const std::string& name) override;
	int open_file(const std::string& name) override;
	void changed(const std::string& name) override;
	Stats stats() const override;
	std::vector<std::uint32_t> fetching(const std::string& name, double now) const override;

private:
	struct Entry {
		ServedVersion version;
		std::vector<bool> verified;
		std::uint32_t count = 0;
		bool complete = false;
		std::map<std::uint32_t, double> fetching; // chunk -> when asked
		OwnedFd fd;
	};
	const serve::Counters& counters_;
	double claim_life_;
	std::map<std::string, Entry> files_;
};

} // namespace p2pget
