// Helpers for peerd's integration tests: a real indexd and real peerd
// processes on free loopback ports, and blocking requests to them.
#pragma once

#include "fixtures.h"

#include "p2p/address.h"
#include "p2p/frame-auth.h"
#include "p2p/identity.h"
#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include <fstream>
#include <map>
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
	void start(std::vector<std::string> extra = {})
	{
		std::vector<std::string> argv{bin("indexd"), "-p", std::to_string(port), "-l", "127.0.0.1", "-v"};
		argv.insert(argv.end(), extra.begin(), extra.end());
		proc = std::make_unique<Process>(argv);
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

	// `wrapper`: a command to run peerd under (e.g. prlimit and its flags).
	void start(const std::string& index, std::vector<std::string> extra = {}, std::vector<std::string> wrapper = {})
	{
		std::vector<std::string> argv = wrapper;
		for (auto a : {bin("peerd"), std::string("-d"), dir.string(), std::string("-p"), std::to_string(port),
		               std::string("-i"), index, std::string("-v")})
			argv.push_back(a);
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

// Closed clusters and identities.

inline p2p::SecretKey test_secret(std::uint8_t seed)
{
	p2p::SecretKey k{};
	for (std::size_t i = 0; i < k.size(); i++)
		k[i] = static_cast<std::uint8_t>(seed * 29 + i * 5 + 1);
	return k;
}

// The secret as 32 raw bytes in `dir`/`name`; returns the path.
inline std::string write_secret(const TempDir& dir, const p2p::SecretKey& key, const std::string& name = "secret")
{
	std::string path = (dir / name).string();
	std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(key.data()), key.size());
	return path;
}

// A client connected to `port`, sealing with `secret` when given.
inline std::unique_ptr<Client> connect_client(std::uint16_t port, const p2p::SecretKey* secret = nullptr)
{
	auto c = std::make_unique<Client>();
	REQUIRE(c->connect(port));
	if (secret)
		c->set_secret(*secret);
	return c;
}

// The index's counters, asked with `secret` in a closed cluster.
inline std::map<std::string, std::uint64_t> index_stats(std::uint16_t index_port,
                                                         const p2p::SecretKey* secret = nullptr)
{
	auto c = connect_client(index_port, secret);
	auto r = ask<p2p::StatsReply>(*c, p2p::Stats{});
	REQUIRE(r);
	std::map<std::string, std::uint64_t> m;
	for (auto& [k, v] : r->counters)
		m[k] = v;
	return m;
}

// The peers the index lists for `name`, asked with `secret`.
inline std::vector<p2p::PeerHolding> holders_with(std::uint16_t index_port, const std::string& name,
                                                  const p2p::SecretKey* secret)
{
	Client c;
	if (!c.connect(index_port))
		return {};
	if (secret)
		c.set_secret(*secret);
	auto reply = ask<p2p::LookupReply>(c, p2p::Lookup{name});
	return reply ? reply->peers : std::vector<p2p::PeerHolding>{};
}

inline p2p::Identity load_identity(const fs::path& path)
{
	std::string error;
	auto id = p2p::Identity::load_or_create(path.string(), &error);
	INFO(error);
	REQUIRE(id);
	return std::move(*id);
}

// HELLO, CHALLENGE, IDENTIFY, REGISTER with `id`: the reply to the REGISTER.
inline std::optional<p2p::Message> signed_register(Client& c, const p2p::Identity& id, const p2p::Register& reg)
{
	auto ch = ask<p2p::Challenge>(c, p2p::Hello{});
	if (!ch)
		return std::nullopt;
	if (!c.send(p2p::Identify{id.public_key(), id.sign_registration(ch->nonce, reg)}) || !c.send(reg))
		return std::nullopt;
	return c.recv();
}

inline std::optional<p2p::ErrorCode> error_code(const std::optional<p2p::Message>& m)
{
	if (!m || !std::holds_alternative<p2p::Error>(*m))
		return std::nullopt;
	return std::get<p2p::Error>(*m).code;
}

// The value of counter `name` in the last "stats:" line of a peerd log.
inline std::optional<std::uint64_t> logged_counter(const std::string& log, const std::string& name)
{
	auto line = log.rfind("stats: ");
	if (line == std::string::npos)
		return std::nullopt;
	auto at = log.find(" " + name + "=", line);
	if (at == std::string::npos || log.find('\n', line) < at)
		return std::nullopt;
	return std::stoull(log.substr(at + name.size() + 2));
}

// Asks a running peerd to log its counters (SIGUSR1) and reads `name`.
inline std::optional<std::uint64_t> peer_counter(Peer& peer, const std::string& name)
{
	auto before = peer.log().size();
	peer.proc->signal(SIGUSR1);
	std::optional<std::uint64_t> v;
	eventually([&] {
		auto log = peer.log();
		if (log.size() <= before || log.find("stats: ", before) == std::string::npos)
			return false;
		v = logged_counter(log, name);
		return true;
	});
	return v;
}

} // namespace peerd_test
