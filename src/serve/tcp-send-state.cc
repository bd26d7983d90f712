// TCP_INFO and SIOCOUTQ. <linux/tcp.h> has tcpi_bytes_acked, which glibc's
// <netinet/tcp.h> lacks, and the two headers cannot meet in one file.
#include "tcp-send-state.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <sys/ioctl.h>
#include <cstddef>
#include <sys/socket.h>

namespace serve {

std::optional<TcpSendState> tcp_send_state(int fd)
{
	tcp_info info{};
	socklen_t len = sizeof info;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
	    len < offsetof(tcp_info, tcpi_bytes_acked) + sizeof info.tcpi_bytes_acked)
		return std::nullopt;
	int outq = 0;
	if (ioctl(fd, SIOCOUTQ, &outq) != 0 || outq < 0)
		return std::nullopt;
	return TcpSendState{info.tcpi_bytes_acked, static_cast<std::uint64_t>(outq)};
}

} // namespace serve
