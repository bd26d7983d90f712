// The hidden partial file a download writes into (DIR/sub/.NAME.p2part)
// and its sidecar (DIR/sub/.NAME.p2state), which records the chunks already
// verified so an interrupted run resumes. The sidecar is a hint, not a
// proof: chunks it lists are hashed again on resume (see download.cc).
// An older copy already at DIR/NAME is the seed: its chunks that match the
// new version's hashes are copied in rather than fetched, as rsync would.
#pragma once

#include "p2p/hash.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace p2pget {

namespace fs = std::filesystem;

class PartialFile {
public:
	// Opens (resuming when the sidecar describes this very version: size,
	// chunk size and content hash) or creates the partial file and its
	// sidecar, creating subfolders of DIR as needed. nullptr and `error`
	// on failure (including another p2pget writing the same file).
	static std::unique_ptr<PartialFile> open(const fs::path& out_dir, const std::string& name, std::uint64_t size,
	                                         std::uint32_t chunk_size, const p2p::Hash& content, std::string& error);
	// The space a download of `size` bytes still needs on the file system of
	// DIR (less what its partial file already holds), and what is free.
	struct Room {
		std::uint64_t need = 0, free = 0;
		fs::path on; // the folder asked (the nearest that exists)
		bool enough() const { return free >= need; }
	};
	static Room room_for(const fs::path& out_dir, const std::string& name, std::uint64_t size);
	PartialFile(const PartialFile&) = delete;
	PartialFile& operator=(const PartialFile&) = delete;
	~PartialFile();

	int fd() const { return fd_; }
	// Chunks the sidecar listed as verified when the file was opened.
	const std::vector<bool>& recorded() const { return recorded_; }
	// Writes all of `len` bytes at `offset`; false with errno set.
	bool write(const void* data, std::size_t len, std::uint64_t offset);
	// Starts writing [offset, offset + len) to the disk without waiting for
	// it, so the fsync in finish() has little left to flush. A hint: its
	// failure is the final fsync's to report. Safe from any thread.
	void start_writeback(std::uint64_t offset, std::uint32_t len) const;
	// Records a chunk as verified; call only after its bytes were written
	// and hashed from the file.
	bool mark_verified(std::uint32_t chunk);
	// Whether the seed holds the bytes [offset, offset + len).
	bool seed_covers(std::uint64_t offset, std::uint32_t len) const { return offset + len <= seed_size_; }
	// Reads all of `len` bytes of the seed at `offset`; false if it has
	// shrunk or cannot be read. Safe from any thread.
	bool read_seed(void* out, std::size_t len, std::uint64_t offset) const;
	// fsync (durable before it is visible), atomic rename into place,
	// sidecar removed. false + `error`.
	bool finish(std::string& error);
	const fs::path& partial_path() const { return partial_; }
	const fs::path& final_path() const { return final_; }

	static fs::path partial_path_for(const fs::path& out_dir, const std::string& name);
	static fs::path sidecar_path_for(const fs::path& out_dir, const std::string& name);

private:
	PartialFile() = default;
	bool load_state(std::uint64_t size, std::uint32_t chunk_size, const p2p::Hash& content, std::string& error);
	void open_seed();
	fs::path final_, partial_, sidecar_;
	int fd_ = -1;
	int state_fd_ = -1;
	int seed_fd_ = -1; // the older copy at final_, if any
	std::uint64_t seed_size_ = 0;
	std::vector<bool> recorded_;
};

} // namespace p2pget
