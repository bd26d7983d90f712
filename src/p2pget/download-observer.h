// What a download tells whoever serves its file while it runs (the serving
// side, serve-node.h). The Engine holds at most one; every call is made on
// the engine's loop.
#pragma once

#include <cstdint>

namespace p2pget {

class Download;

class DownloadObserver {
public:
	virtual ~DownloadObserver() = default;
	// The manifest is checked and the partial file open: chunk_hashes(),
	// chunk_size() and file_fd() are valid from now on.
	virtual void manifest_ready(const Download& d) = 0;
	// One more chunk verified: fetched, or found on disk at resume.
	virtual void chunk_verified(const Download& d, std::uint32_t chunk) = 0;
	// It asked a complete holder for `chunk` (FETCHING to our clients).
	virtual void chunk_fetching(const Download&, std::uint32_t) {}
	// Every chunk verified and the file renamed into place.
	virtual void file_finished(const Download& d) = 0;
	// Failed or interrupted: its chunks may be served no more.
	virtual void file_failed(const Download& d) = 0;
};

} // namespace p2pget
