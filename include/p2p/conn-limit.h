// Servers hold at most as many connections as their descriptors allow,
// keeping some free, so a flood of idle connections never leaves a server
// unable to open a file or accept the next connection to turn it away.
#pragma once

#include "p2p/frame-auth.h"
#include "p2p/protocol.h"

#include <cstddef>
#include <string>

namespace p2p {

// RLIMIT_NOFILE's soft limit minus `reserve`, within [1, ceiling].
std::size_t connection_budget(std::size_t reserve, std::size_t ceiling);

// Sends one Error frame on an accepted socket (best effort, never blocks)
// and closes it. In a closed cluster pass the secret: the frame is then
// MAC'd as the first frame of the accepting side.
void refuse_connection(int fd, ErrorCode code, const std::string& text, const SecretKey* secret = nullptr);

} // namespace p2p
