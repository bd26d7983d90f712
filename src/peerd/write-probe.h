// Whether anybody has a file open for writing, asked the way the kernel
// answers it: a read lease (fcntl F_SETLEASE F_RDLCK) is refused with EAGAIN
// exactly when the file is open for writing somewhere. It needs the file's
// owner or CAP_LEASE; without them the answer is Unknown.
#pragma once

#include <string>

namespace peerd {

enum class Writers { None, Some, Unknown };

// `fd` is open read-only on the file.
Writers writers_of(int fd);
// The same for a path (not following a link in its last component).
Writers writers_of(const std::string& path);

} // namespace peerd
