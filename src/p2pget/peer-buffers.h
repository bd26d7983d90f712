// What every peer connection of one reactor shares, owned by the Engine
// and lent to each PeerConn: the buffer raw bytes are read into, and the
// pipe a chunk body is spliced through. One of each is enough: the reactor
// is one thread, raw bytes are consumed within on_raw, and each splice
// empties the pipe before the next begins.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>

namespace p2pget {

// A pipe(2) for splice(2), closed with its owner.
class SplicePipe {
public:
	SplicePipe();
	SplicePipe(const SplicePipe&) = delete;
	SplicePipe& operator=(const SplicePipe&) = delete;
	~SplicePipe();

	bool ok() const { return write_ >= 0; }
	int read_fd() const { return read_; }
	int write_fd() const { return write_; }
	// What it holds at most (1 MiB when the kernel allows, else 64 KiB).
	std::size_t size() const { return size_; }

private:
	int read_ = -1, write_ = -1;
	std::size_t size_ = 0;
};

class PeerBuffers {
public:
	static constexpr std::size_t kReadSize = 1u << 20;

	// Both are made on first use: a run without peers needs neither.
	std::span<std::byte> read_buffer();
	SplicePipe& pipe();

private:
	std::unique_ptr<std::byte[]> read_;
	std::optional<SplicePipe> pipe_;
};

} // namespace p2pget
