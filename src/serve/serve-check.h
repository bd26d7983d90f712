// Which requests a chunk server answers, and what it answers: pure
// decisions over a ServedFile, no I/O, in the order the checks are made.
#pragma once

#include "serve-source.h"

#include "p2p/message.h"

#include <optional>
#include <string>

namespace serve {

struct Refusal {
	p2p::ErrorCode code = p2p::ErrorCode::None;
	std::string text;
};

// Whether every byte of [offset, offset + length) lies in verified chunks
// (and inside the file). A length of 0 covers no chunk.
bool range_verified(const ServedFile& f, std::uint64_t offset, std::uint32_t length);

// `f` is find()'s answer for req.name (nullptr: not served here).
// NotFound, BadRange (first chunk past the end), or nullopt: answer with
// manifest_page().
std::optional<Refusal> check_manifest(const ServedFile* f, const p2p::ManifestRequest& req);
// Up to kMaxManifestPage chunk hashes from req.first_chunk.
p2p::Manifest manifest_page(const ServedFile& f, const p2p::ManifestRequest& req);

// The 2 MiB chunk that starts at `offset`, if one does (what RecentSends
// keys a send by).
std::optional<std::uint32_t> chunk_starting_at(std::uint64_t offset);

// NotFound (not served), Changed (another version), BadRange (longer than
// kMaxChunkLength or outside the file), NotFound (a chunk of the range not
// verified here), or nullopt: open the file and send the bytes.
std::optional<Refusal> check_chunk(const ServedFile* f, const p2p::ChunkRequest& req);

} // namespace serve
