// Dual-stack listening socket for the chunk port.
#include "listen-socket.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace serve {

int listen_socket(std::uint16_t port, std::string* error)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool v6 = fd >= 0;
	if (!v6)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error = std::string("socket: ") + std::strerror(errno);
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	int rc;
	if (v6) {
		// Dual stack whatever net.ipv6.bindv6only says.
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		sockaddr_in6 sa{};
		sa.sin6_family = AF_INET6;
		sa.sin6_addr = in6addr_any;
		sa.sin6_port = htons(port);
		rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	} else {
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		sa.sin_port = htons(port);
		rc = bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
	}
	if (rc != 0 || listen(fd, 511) != 0) {
		*error = "cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno);
		close(fd);
		return -1;
	}
	return fd;
}

} // namespace serve
