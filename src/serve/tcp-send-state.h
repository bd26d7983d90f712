// What the kernel knows of a TCP socket's sending: the bytes its peer has
// acknowledged so far, and those still in the socket (unsent or unacked).
#pragma once

#include <cstdint>
#include <optional>

namespace serve {

struct TcpSendState {
	std::uint64_t acked = 0;
	std::uint64_t queued = 0;
};

// nullopt: not a TCP socket, or a kernel that does not say.
std::optional<TcpSendState> tcp_send_state(int fd);

} // namespace serve
