// The hash cache in DIR/.peerd/: hashes of files as they were (size, mtime,
// inode), so a restart on unchanged files does no hashing, and neither
// does a rename within the share (same inode, size and mtime).
#pragma once

#include "share-table.h"

#include <map>
#include <optional>
#include <string>
#include <tuple>

namespace peerd {

class HashCache {
public:
	// Reads `path`; a missing, truncated or corrupt file gives an empty cache
	// (the cost is re-hashing, never a wrong hash).
	bool load(const std::string& path);
	// The cached hashes for `name` if they were made for exactly `st`, else
	// those of a file with exactly `st` under another name (it was renamed,
	// or is a hard link), renamed to `name`.
	std::optional<SharedFile> lookup(const std::string& name, const FileStat& st) const;
	std::size_t size() const { return entries_.size(); }
	// Adds one freshly hashed file, so that a rename before the next save
	// still finds it.
	void remember(const SharedFile& file);

	// Writes the table to `path` atomically (temp file, fsync, rename), so a
	// crash leaves the old cache or the new one, never half of one.
	static bool save(const std::string& path, const ShareTable& table, std::string* error = nullptr);

	void replace(const ShareTable& table);

private:
	using StatKey = std::tuple<std::uint64_t, std::uint64_t, std::int64_t>; // inode, size, mtime
	static StatKey key_of(const FileStat& st) { return {st.inode, st.size, st.mtime_ns}; }
	void index_stats();

	std::map<std::string, SharedFile> entries_;
	std::map<StatKey, std::string> by_stat_; // -> a name in entries_
};

} // namespace peerd
