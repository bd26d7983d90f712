// The shared read buffer and splice pipe; see peer-buffers.h.
#include "peer-buffers.h"

#include <fcntl.h>
#include <unistd.h>

namespace p2pget {

SplicePipe::SplicePipe()
{
	int fds[2];
	if (::pipe2(fds, O_CLOEXEC) != 0)
		return;
	read_ = fds[0];
	write_ = fds[1];
	::fcntl(write_, F_SETPIPE_SZ, 1 << 20); // may be refused: then 64 KiB
	int size = ::fcntl(write_, F_GETPIPE_SZ);
	size_ = size > 0 ? static_cast<std::size_t>(size) : 65536;
}

SplicePipe::~SplicePipe()
{
	if (read_ >= 0)
		::close(read_);
	if (write_ >= 0)
		::close(write_);
}

std::span<std::byte> PeerBuffers::read_buffer()
{
	if (!read_)
		read_ = std::make_unique_for_overwrite<std::byte[]>(kReadSize);
	return {read_.get(), kReadSize};
}

SplicePipe& PeerBuffers::pipe()
{
	if (!pipe_)
		pipe_.emplace();
	return *pipe_;
}

} // namespace p2pget
