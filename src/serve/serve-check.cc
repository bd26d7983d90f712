// The request checks of the chunk server; see serve-check.h.
#include "serve-check.h"

#include <algorithm>
#include <cstdint>

namespace serve {

bool range_verified(const ServedFile& f, std::uint64_t offset, std::uint32_t length)
{
	if (offset > f.size || f.size - offset < length)
		return false;
	if (length == 0 || !f.verified)
		return true;
	if (f.chunk_size == 0)
		return false;
	std::uint64_t first = offset / f.chunk_size;
	std::uint64_t last = (offset + length - 1) / f.chunk_size;
	for (std::uint64_t c = first; c <= last; c++)
		if (!f.chunk_verified(c))
			return false;
	return true;
}

std::optional<Refusal> check_manifest(const ServedFile* f, const p2p::ManifestRequest& req)
{
	if (!f)
		return Refusal{p2p::ErrorCode::NotFound, req.name + ": not shared here"};
	std::uint32_t count = f->chunk_count();
	if (req.first_chunk > count || (req.first_chunk == count && count != 0))
		return Refusal{p2p::ErrorCode::BadRange, req.name + ": first chunk past the end"};
	return std::nullopt;
}

p2p::Manifest manifest_page(const ServedFile& f, const p2p::ManifestRequest& req)
{
	p2p::Manifest m;
	m.name = req.name;
	m.size = f.size;
	m.chunk_size = f.chunk_size;
	m.content_hash = f.content;
	m.chunk_count = f.chunk_count();
	m.first_chunk = std::min(req.first_chunk, m.chunk_count);
	std::uint32_t n = std::min(m.chunk_count - m.first_chunk, p2p::kMaxManifestPage);
	auto page = f.chunk_hashes.subspan(m.first_chunk, n);
	m.chunk_hashes.assign(page.begin(), page.end());
	return m;
}

std::optional<std::uint32_t> chunk_starting_at(std::uint64_t offset)
{
	if (offset % p2p::kChunkSize != 0 || offset / p2p::kChunkSize > UINT32_MAX)
		return std::nullopt;
	return static_cast<std::uint32_t>(offset / p2p::kChunkSize);
}

std::optional<Refusal> check_chunk(const ServedFile* f, const p2p::ChunkRequest& req)
{
	if (!f)
		return Refusal{p2p::ErrorCode::NotFound, req.name + ": not shared here"};
	if (f->content != req.content_hash)
		return Refusal{p2p::ErrorCode::Changed, req.name + ": another version is shared here"};
	if (req.length > p2p::kMaxChunkLength || req.offset > f->size || f->size - req.offset < req.length)
		return Refusal{p2p::ErrorCode::BadRange, req.name + ": range outside the file"};
	if (!range_verified(*f, req.offset, req.length))
		return Refusal{p2p::ErrorCode::NotFound, req.name + ": range not verified here yet"};
	return std::nullopt;
}

} // namespace serve
