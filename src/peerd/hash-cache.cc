// Cache file layout (integers little-endian, as the host writes them; the
// file never leaves the machine):
//   "P2PHC001" | u32 count | count x { u16 name_len | name | u64 size |
//   i64 mtime_ns | u64 inode | u32 chunks | chunks x 32 | 32 content } | "END!"
#include "hash-cache.h"

#include "p2p/hash.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace peerd {
namespace {

constexpr char kMagic[8] = {'P', '2', 'P', 'H', 'C', '0', '0', '1'};
constexpr char kTrailer[4] = {'E', 'N', 'D', '!'};

class Reader {
public:
	Reader(const std::string& b) : p_(b.data()), end_(b.data() + b.size()) {}
	bool bytes(void* out, std::size_t n)
	{
		if (static_cast<std::size_t>(end_ - p_) < n)
			return ok_ = false;
		if (n == 0)
			return true; // `out` may be the null data() of an empty vector
		std::memcpy(out, p_, n);
		p_ += n;
		return true;
	}
	template <typename T>
	T num()
	{
		T v{};
		bytes(&v, sizeof v);
		return v;
	}
	bool ok() const { return ok_; }
	std::size_t left() const { return static_cast<std::size_t>(end_ - p_); }

private:
	const char* p_;
	const char* end_;
	bool ok_ = true;
};

template <typename T>
void put(std::string& out, T v)
{
	out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

} // namespace

bool HashCache::load(const std::string& path)
{
	entries_.clear();
	FILE* f = std::fopen(path.c_str(), "rbe");
	if (!f)
		return false;
	std::string buf;
	char tmp[65536];
	std::size_t n;
	while ((n = std::fread(tmp, 1, sizeof tmp, f)) > 0)
		buf.append(tmp, n);
	std::fclose(f);

	Reader r(buf);
	char magic[8];
	if (!r.bytes(magic, 8) || std::memcmp(magic, kMagic, 8) != 0)
		return false;
	auto count = r.num<std::uint32_t>();
	std::map<std::string, SharedFile> entries;
	for (std::uint32_t i = 0; i < count && r.ok(); i++) {
		SharedFile e;
		auto len = r.num<std::uint16_t>();
		if (!r.ok() || r.left() < len)
			return false;
		e.name.resize(len);
		r.bytes(e.name.data(), len);
		e.st.size = r.num<std::uint64_t>();
		e.st.mtime_ns = r.num<std::int64_t>();
		e.st.inode = r.num<std::uint64_t>();
		auto chunks = r.num<std::uint32_t>();
		if (!r.ok() || chunks != p2p::chunk_count(e.st.size, p2p::kChunkSize) ||
		    r.left() < static_cast<std::size_t>(chunks) * p2p::kHashSize)
			return false;
		e.chunks.resize(chunks);
		r.bytes(e.chunks.data(), chunks * p2p::kHashSize);
		r.bytes(e.content.data(), p2p::kHashSize);
		// The content hash ties the chunk hashes together: a flipped bit
		// anywhere in the record shows here.
		if (!r.ok() || p2p::content_hash(e.chunks) != e.content)
			return false;
		std::string key = e.name;
		entries.emplace(std::move(key), std::move(e));
	}
	char trailer[4];
	if (!r.bytes(trailer, 4) || std::memcmp(trailer, kTrailer, 4) != 0 || r.left() != 0)
		return false;
	entries_ = std::move(entries);
	index_stats();
	return true;
}

std::optional<SharedFile> HashCache::lookup(const std::string& name, const FileStat& st) const
{
	auto it = entries_.find(name);
	if (it == entries_.end() || !(it->second.st == st)) {
		auto same = by_stat_.find(key_of(st));
		if (same == by_stat_.end())
			return std::nullopt;
		it = entries_.find(same->second);
		if (it == entries_.end() || !(it->second.st == st))
			return std::nullopt;
	}
	SharedFile f = it->second;
	f.name = name;
	return f;
}

void HashCache::remember(const SharedFile& file)
{
	entries_.insert_or_assign(file.name, file);
	by_stat_.insert_or_assign(key_of(file.st), file.name);
}

void HashCache::replace(const ShareTable& table)
{
	entries_ = table.files();
	index_stats();
}

void HashCache::index_stats()
{
	by_stat_.clear();
	for (auto& [name, f] : entries_)
		by_stat_.emplace(key_of(f.st), name);
}

bool HashCache::save(const std::string& path, const ShareTable& table, std::string* error)
{
	std::string out(kMagic, 8);
	put(out, static_cast<std::uint32_t>(table.size()));
	for (auto& [name, f] : table.files()) {
		put(out, static_cast<std::uint16_t>(name.size()));
		out += name;
		put(out, f.st.size);
		put(out, f.st.mtime_ns);
		put(out, f.st.inode);
		put(out, static_cast<std::uint32_t>(f.chunks.size()));
		if (!f.chunks.empty())
			out.append(reinterpret_cast<const char*>(f.chunks.data()), f.chunks.size() * p2p::kHashSize);
		out.append(reinterpret_cast<const char*>(f.content.data()), p2p::kHashSize);
	}
	out.append(kTrailer, 4);

	std::string tmp = path + ".tmp." + std::to_string(getpid());
	int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (error)
			*error = tmp + ": " + std::strerror(errno);
		return false;
	}
	const char* p = out.data();
	std::size_t left = out.size();
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (error)
				*error = tmp + ": " + std::strerror(errno);
			close(fd);
			unlink(tmp.c_str());
			return false;
		}
		p += n;
		left -= static_cast<std::size_t>(n);
	}
	fdatasync(fd);
	close(fd);
	if (rename(tmp.c_str(), path.c_str()) != 0) {
		if (error)
			*error = path + ": " + std::strerror(errno);
		unlink(tmp.c_str());
		return false;
	}
	return true;
}

} // namespace peerd
