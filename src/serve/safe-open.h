// Opening a shared name beneath the share root and nowhere else: no "..",
// no absolute path, no symbolic link anywhere on the way, whatever the
// request says or whoever swaps the tree under us.
#pragma once

#include <string_view>
#include <sys/stat.h>

namespace serve {

// Opens `name` (relative, '/'-separated) beneath the directory `root_fd`.
// `flags` are open(2) flags; O_NOFOLLOW and O_CLOEXEC are always added.
// Returns the fd, or -1 with errno set (EINVAL for a name that breaks the
// name rule, ELOOP for a symbolic link, EXDEV for an escape).
// Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has
// it, else a walk of one openat(O_NOFOLLOW) per component.
int open_beneath(int root_fd, std::string_view name, int flags);

// The walk on its own, for kernels without openat2 (and for its tests).
int open_beneath_walk(int root_fd, std::string_view name, int flags);

// lstat of `name` beneath root: the parent is opened with open_beneath, the
// last component is not followed. Returns 0 or -1 with errno.
int stat_beneath(int root_fd, std::string_view name, struct stat& st);

} // namespace serve
