#include "p2p/conn-limit.h"

#include "p2p/codec.h"

#include <algorithm>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2p {

std::size_t connection_budget(std::size_t reserve, std::size_t ceiling)
{
	rlimit rl{};
	if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return ceiling;
	std::size_t soft = static_cast<std::size_t>(rl.rlim_cur);
	return std::clamp<std::size_t>(soft > reserve ? soft - reserve : 1, 1, ceiling);
}

void refuse_connection(int fd, ErrorCode code, const std::string& text, const SecretKey* secret)
{
	auto frame = encode(Error{code, 0, text});
	if (secret)
		FrameAuth(*secret, false).append_mac(frame);
	(void)!::send(fd, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
	::close(fd);
}

} // namespace p2p
