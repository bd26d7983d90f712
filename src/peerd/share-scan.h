// Walks the share: which regular files are there, with the stat fields that
// say whether a cached hash still holds.
#pragma once

#include <cstdint>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace peerd {

// What a hash is valid for: the same size, mtime (ns) and inode.
struct FileStat {
	std::uint64_t size = 0;
	std::int64_t mtime_ns = 0;
	std::uint64_t inode = 0;
	bool operator==(const FileStat&) const = default;
};

FileStat file_stat(const struct stat& st);

struct ScannedFile {
	std::string name; // relative to the root, '/'-separated
	FileStat st;
};

struct ScanResult {
	std::vector<ScannedFile> files; // sorted by name
	std::vector<std::string> dirs;  // folders walked, "" for the root itself
	std::size_t skipped = 0;        // hidden, links, special files, bad names
};

// Scans the folder `sub` ("" = the whole share) beneath `root_fd`,
// recursively. Regular files only; nothing whose name starts with '.';
// symbolic links are neither followed nor listed. Returns false (and
// `error`) when `sub` itself cannot be opened.
bool scan_share(int root_fd, const std::string& sub, ScanResult& out, std::string* error = nullptr);

} // namespace peerd
