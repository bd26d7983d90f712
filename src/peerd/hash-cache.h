// The hash cache in DIR/.peerd/: hashes of files as they were (size, mtime,
// inode), so a restart on unchanged files does no hashing.
#pragma once

#include "share-table.h"

#include <map>
#include <string>

namespace peerd {

class HashCache {
public:
	// Reads `path`; a missing, truncated or corrupt file gives an empty cache
	// (the cost is re-hashing, never a wrong hash).
	bool load(const std::string& path);
	// The cached hashes for `name` if they were made for exactly `st`.
	const SharedFile* lookup(const std::string& name, const FileStat& st) const;
	std::size_t size() const { return entries_.size(); }

	// Writes the table to `path` atomically (temp file, fsync, rename), so a
	// crash leaves the old cache or the new one, never half of one.
	static bool save(const std::string& path, const ShareTable& table, std::string* error = nullptr);

	void replace(const ShareTable& table);

private:
	std::map<std::string, SharedFile> entries_;
};

} // namespace peerd
