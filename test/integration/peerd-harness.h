// Helpers for peerd's integration tests: a real indexd and real peerd
// processes on free loopback ports, and blocking requests to them.
#pragma once

#include "fixtures.h"

#include "p2p/address.h"
#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace peerd_test {

using namespace fixtures;
using namespace std::chrono_literals;

struct Index {
	std::uint16_t port = free_port();
	std::unique_ptr<Process> proc;
	void start()
	{
		proc = std::make_unique<Process>(
			std::vector<std::string>{bin("indexd"), "-p", std::to_string(port), "-l", "127.0.0.1"});
		REQUIRE(wait_for_port(port));
	}
	std::string addr() const { return "127.0.0.1:" + std::to_string(port); }
};

// A share dir named by a peer ID, and the peerd serving it.
struct Peer {
	TempDir root;
	fs::path dir = root / "5";
	std::uint16_t port = free_port();
	std::unique_ptr<Process> proc;

	Peer() { fs::create_directories(dir); }

	void start(const std::string& index, std::vector<std::string> extra = {})
	{
		std::vector<std::string> argv{bin("peerd"), "-d", dir.string(), "-p", std::to_string(port), "-i", index, "-v"};
		argv.insert(argv.end(), extra.begin(), extra.end());
		proc = std::make_unique<Process>(argv);
		REQUIRE(wait_for_port(port));
	}
	// True once the first scan is fully hashed.
	bool ready(std::chrono::milliseconds timeout = 30s)
	{
		return eventually([&] { return log().find("ready: sharing") != std::string::npos; }, timeout);
	}
	std::string log() const { return proc ? proc->stderr_text() : ""; }
	std::optional<int> stop()
	{
		proc->signal(SIGTERM);
		return proc->wait(10s);
	}
};

inline p2p::Hash file_content_hash(const fs::path& path, std::vector<p2p::Hash>* chunks_out = nullptr)
{
	std::ifstream in(path, std::ios::binary);
	std::vector<char> buf(p2p::kChunkSize);
	std::vector<p2p::Hash> chunks;
	while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
		chunks.push_back(p2p::hash_bytes(buf.data(), static_cast<std::size_t>(in.gcount())));
	if (chunks_out)
		*chunks_out = chunks;
	return p2p::content_hash(chunks);
}

inline std::string file_bytes(const fs::path& path, std::uint64_t offset, std::size_t len)
{
	std::ifstream in(path, std::ios::binary);
	in.seekg(static_cast<std::streamoff>(offset));
	std::string s(len, '\0');
	in.read(s.data(), static_cast<std::streamsize>(len));
	s.resize(static_cast<std::size_t>(in.gcount()));
	return s;
}

inline std::optional<p2p::Manifest> manifest(Client& c, const std::string& name, std::uint32_t first = 0)
{
	return ask<p2p::Manifest>(c, p2p::ManifestRequest{name, first});
}

// Reads one reply to a chunk request: the bytes, or the Error.
struct ChunkReply {
	std::optional<p2p::ChunkData> data;
	std::optional<p2p::Error> error;
	std::string bytes;
};
inline ChunkReply read_chunk_reply(Client& c, std::chrono::milliseconds timeout = 10s)
{
	ChunkReply r;
	auto msg = c.recv(timeout);
	if (!msg)
		return r;
	if (auto* e = std::get_if<p2p::Error>(&*msg)) {
		r.error = *e;
	} else if (auto* d = std::get_if<p2p::ChunkData>(&*msg)) {
		r.data = *d;
		auto raw = c.recv_raw(d->length, timeout);
		if (raw)
			r.bytes = *raw;
	}
	return r;
}

// The peers the index lists for `name`.
inline std::vector<p2p::PeerHolding> holders(std::uint16_t index_port, const std::string& name)
{
	Client c;
	if (!c.connect(index_port))
		return {};
	auto reply = ask<p2p::LookupReply>(c, p2p::Lookup{name});
	return reply ? reply->peers : std::vector<p2p::PeerHolding>{};
}

inline bool index_has(std::uint16_t index_port, const std::string& name, std::uint16_t peer_port,
                      std::optional<p2p::Hash> hash = std::nullopt)
{
	for (auto& h : holders(index_port, name))
		if (h.port == peer_port && (!hash || h.hash == *hash))
			return true;
	return false;
}

// Every name the index lists, paging through List.
inline std::vector<std::string> index_names(std::uint16_t index_port)
{
	std::vector<std::string> names;
	Client c;
	if (!c.connect(index_port))
		return names;
	std::string after;
	for (int page = 0; page < 100; page++) {
		auto reply = ask<p2p::ListReply>(c, p2p::List{after, p2p::kMaxListPage});
		if (!reply)
			break;
		for (auto& e : reply->entries)
			names.push_back(e.name);
		if (!reply->more || reply->entries.empty())
			break;
		after = reply->entries.back().name;
	}
	return names;
}

} // namespace peerd_test
