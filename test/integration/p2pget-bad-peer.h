// A misbehaving peer for p2pget's tests, built on the codec alone: a forked
// process that registers files with the real index and serves them like
// peerd does, except that the bytes of the first chunk it is asked for are
// corrupted. Or, as a claimer, it is listed as a downloader of the files,
// answers a HAVE_REQUEST with an empty map and a FETCHING for every chunk,
// and then says nothing more: a downloader frozen just after it asked a
// seed for everything. Each chunk request it receives is appended to a log
// file.
#pragma once

#include "p2p/frame-auth.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

namespace p2pget_test {

// Closed cluster: `index` MACs the registration for an indexd with
// --secret-file; with `serve`, the peer takes a MAC after every request and
// MACs its replies with that key (a wrong one makes a peer whose MACs fail).
struct BadPeerKeys {
	std::optional<p2p::SecretKey> index, serve;
};

enum class BadPeerKind { Corrupter, Claimer };

class BadPeer {
public:
	// Serves `names` (relative to `dir`). Returns once registered.
	BadPeer(std::uint16_t index_port, const std::filesystem::path& dir, std::vector<std::string> names,
	        const std::filesystem::path& log, const BadPeerKeys& keys = {},
	        BadPeerKind kind = BadPeerKind::Corrupter);
	BadPeer(const BadPeer&) = delete;
	BadPeer& operator=(const BadPeer&) = delete;
	~BadPeer();

	std::uint16_t port() const { return port_; }
	// Chunk requests received so far.
	std::size_t requests() const;

private:
	pid_t pid_ = -1;
	std::uint16_t port_ = 0;
	std::filesystem::path log_;
};

} // namespace p2pget_test
