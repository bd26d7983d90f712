#include "write-probe.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace peerd {

Writers writers_of(int fd)
{
	if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
		::fcntl(fd, F_SETLEASE, F_UNLCK);
		return Writers::None;
	}
	return errno == EAGAIN ? Writers::Some : Writers::Unknown;
}

Writers writers_of(const std::string& path)
{
	int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return Writers::Unknown;
	Writers w = writers_of(fd);
	::close(fd);
	return w;
}

} // namespace peerd
