// The chunk port's listening socket.
#pragma once

#include <cstdint>
#include <string>

namespace serve {

// Binds [::]:port (IPv4 too, through mapped addresses; 0.0.0.0 when the
// host has no IPv6) and listens. Returns the fd or -1 with `error`.
int listen_socket(std::uint16_t port, std::string* error);

} // namespace serve
