// The downloads seen by the chunk server; see serve-source.h.
#include "serve-source.h"

#include "p2p/log.h"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace p2pget {

OwnedFd& OwnedFd::operator=(OwnedFd&& o) noexcept
{
	if (this != &o) {
		if (fd_ >= 0)
			::close(fd_);
		fd_ = o.fd_;
		o.fd_ = -1;
	}
	return *this;
}

OwnedFd::~OwnedFd()
{
	if (fd_ >= 0)
		::close(fd_);
}

bool DownloadSource::add(const std::string& name, ServedVersion version, int fd)
{
	int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return false;
	Entry e;
	e.verified.assign(version.chunk_hashes.size(), false);
	e.version = std::move(version);
	e.fd = OwnedFd(own);
	files_.insert_or_assign(name, std::move(e));
	return true;
}

bool DownloadSource::verify(const std::string& name, std::uint32_t chunk)
{
	auto it = files_.find(name);
	if (it == files_.end() || chunk >= it->second.verified.size() || it->second.verified[chunk])
		return false;
	it->second.verified[chunk] = true;
	it->second.count++;
	it->second.fetching.erase(chunk);
	return true;
}

void DownloadSource::fetch(const std::string& name, std::uint32_t chunk, double now)
{
	auto it = files_.find(name);
	if (it == files_.end() || chunk >= it->second.verified.size() || it->second.verified[chunk])
		return;
	auto& asked = it->second.fetching;
	std::erase_if(asked, [&](const auto& a) { return a.second + claim_life_ <= now; });
	asked[chunk] = now;
}

std::vector<std::uint32_t> DownloadSource::fetching(const std::string& name, double now) const
{
	std::vector<std::uint32_t> out;
	if (auto it = files_.find(name); it != files_.end())
		for (auto& [chunk, when] : it->second.fetching)
			if (when + claim_life_ > now)
				out.push_back(chunk);
	return out;
}

void DownloadSource::complete(const std::string& name)
{
	auto it = files_.find(name);
	if (it == files_.end())
		return;
	Entry& e = it->second;
	e.verified.assign(e.verified.size(), true);
	e.count = static_cast<std::uint32_t>(e.verified.size());
	e.complete = true;
	e.fetching.clear();
}

void DownloadSource::remove(const std::string& name) { files_.erase(name); }

std::uint32_t DownloadSource::verified_count(const std::string& name) const
{
	auto it = files_.find(name);
	return it == files_.end() ? 0 : it->second.count;
}

std::optional<serve::ServedFile> DownloadSource::find(const std::string& name)
{
	auto it = files_.find(name);
	if (it == files_.end())
		return std::nullopt;
	const Entry& e = it->second;
	serve::ServedFile f;
	f.size = e.version.size;
	f.content = e.version.content;
	f.chunk_size = e.version.chunk_size;
	f.chunk_hashes = e.version.chunk_hashes;
	f.verified = e.complete ? nullptr : &e.verified;
	return f;
}

// Only the download's own descriptor: no path is ever opened, so a name
// can reach nothing but the file this process is writing.
int DownloadSource::open_file(const std::string& name)
{
	auto it = files_.find(name);
	if (it == files_.end()) {
		errno = ENOENT;
		return -1;
	}
	return ::fcntl(it->second.fd.get(), F_DUPFD_CLOEXEC, 0);
}

void DownloadSource::changed(const std::string& name)
{
	// The descriptor is ours and the bytes verified; nothing to look at
	// again, but say it, since it should not happen.
	log_warn("serving %s: cannot duplicate its descriptor", name.c_str());
}

DownloadSource::Stats DownloadSource::stats() const
{
	Stats s = counters_.pairs();
	s.emplace_back("files_serving", files_.size());
	return s;
}

} // namespace p2pget
