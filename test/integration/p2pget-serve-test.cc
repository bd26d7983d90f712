// p2pget serving while it downloads, against real processes: a download
// from a rate-limited peerd serves each chunk it has verified (a raw
// client gets HAVE_MAP, then a HAVE per chunk, and those bytes), and
// nothing else: an unverified chunk, another file, a path outside its
// downloads all get an error, never bytes. Closed cluster: MAC'd, and a
// client without the secret is refused. --no-serve listens nowhere.
#include "p2pget-cluster.h"

#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <dirent.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace p2pget_test;
using namespace std::chrono_literals;
using fixtures::Client;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;
constexpr std::uint64_t kChunk = 2 * MiB;
constexpr std::uint64_t kSize = 6 * kChunk + 1234; // 7 chunks; about 7 s at 2 MiB/s

struct Swarm {
	explicit Swarm(Cluster& c, std::vector<std::string> peer_args = {}, bool limited = true) : cluster(c)
	{
		if (limited)
			peer_args.insert(peer_args.end(), {"--rate-limit", "2M"});
		cluster.start_peer(peer_args);
		fixtures::write_file(cluster.peer_dir(0) / "big.bin", kSize, 31);
		fixtures::write_file(cluster.peer_dir(0) / "other.bin", 3 * MiB, 32);
		hash = fixtures::file_content_hash(cluster.peer_dir(0) / "big.bin", &chunks);
		bytes = fixtures::read_all(cluster.peer_dir(0) / "big.bin");
		REQUIRE(cluster.wait_listed("big.bin", 1));
		REQUIRE(cluster.wait_listed("other.bin", 1));
	}
	std::string chunk_bytes(std::uint32_t c) const { return bytes.substr(c * kChunk, kChunk); }
	std::uint32_t chunk_len(std::uint32_t c) const
	{
		return static_cast<std::uint32_t>(std::min<std::uint64_t>(kChunk, kSize - c * kChunk));
	}
	p2p::HaveRequest have_req() const { return {"big.bin", kSize, hash}; }

	Cluster& cluster;
	p2p::Hash hash{};
	std::vector<p2p::Hash> chunks;
	std::string bytes;
};

// The next HAVE on `c`, skipping FETCHINGs (nothing else is owed).
std::optional<p2p::Have> next_have(Client& c, std::chrono::milliseconds timeout = 20s)
{
	while (auto m = c.recv(timeout)) {
		if (auto* h = std::get_if<p2p::Have>(&*m))
			return *h;
		if (!std::holds_alternative<p2p::Fetching>(*m))
			return std::nullopt;
	}
	return std::nullopt;
}

// Sends `msg` and returns its answer, as a client must take it after a
// HAVE_MAP: HAVEs that come first go into `have`, FETCHINGs are passed over.
std::optional<p2p::Message> answer(Client& c, const p2p::Message& msg, std::vector<bool>& have)
{
	REQUIRE(c.send(msg));
	while (auto m = c.recv(20s)) {
		if (auto* h = std::get_if<p2p::Have>(&*m))
			have.at(h->chunk) = true;
		else if (!std::holds_alternative<p2p::Fetching>(*m))
			return m;
	}
	return std::nullopt;
}

// Asks for chunk `k`; HAVEs that arrive before the answer go into `have`.
// Returns the answer (CHUNK_DATA with its bytes in `raw`, or ERROR).
std::optional<p2p::Message> ask_chunk(Client& c, const Swarm& s, std::uint32_t k, std::uint32_t id,
                                      std::vector<bool>& have, std::string& raw)
{
	auto m = answer(c, p2p::ChunkRequest{id, "big.bin", s.hash, k * kChunk, s.chunk_len(k)}, have);
	if (auto* d = m ? std::get_if<p2p::ChunkData>(&*m) : nullptr)
		raw = c.recv_raw(d->length, 20s).value_or("");
	return m;
}

// What the index lists for big.bin at `port` (nullopt: not listed).
std::optional<p2p::PeerHolding> holding(Cluster& c, std::uint16_t port, const p2p::SecretKey* key = nullptr)
{
	Client idx;
	if (!idx.connect(c.index_port()))
		return std::nullopt;
	if (key)
		idx.set_secret(*key);
	auto r = fixtures::ask<p2p::HoldersReply>(idx, p2p::LookupHolders{"big.bin"});
	if (!r)
		return std::nullopt;
	for (auto& h : r->peers)
		if (h.port == port)
			return h;
	return std::nullopt;
}

// Socket inodes of `pid` that listen on TCP (IPv4 or IPv6).
std::size_t listening_sockets(pid_t pid)
{
	std::set<std::string> mine;
	fs::path fds = "/proc/" + std::to_string(pid) + "/fd";
	for (auto& e : fs::directory_iterator(fds)) {
		std::error_code ec;
		auto target = fs::read_symlink(e.path(), ec).string();
		if (target.starts_with("socket:["))
			mine.insert(target.substr(8, target.size() - 9));
	}
	std::size_t n = 0;
	for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
		std::ifstream in(table);
		std::string line;
		std::getline(in, line); // header
		while (std::getline(in, line)) {
			std::istringstream f(line);
			std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
			f >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
			if (st == "0A" && mine.count(inode))
				n++;
		}
	}
	return n;
}

} // namespace

TEST_CASE("p2pget serves its verified chunks while it downloads, and nothing else",
          "[p2pget][integration][serve]")
{
	REQUIRE(p2p::hash_init());
	Cluster c;
	Swarm s(c);
	fs::create_directories(c.out());
	fixtures::write_file(c.out() / "outside.bin", 1000, 33); // in its folder, not a download
	std::uint16_t port = fixtures::free_port();
	fixtures::Process get(c.get_argv({"--serve-port", std::to_string(port), "big.bin"}));
	REQUIRE(fixtures::wait_for_port(port));
	Client raw;
	REQUIRE(raw.connect(port));

	auto st = fixtures::ask<p2p::StatsReply>(raw, p2p::Stats{});
	REQUIRE(st);
	std::map<std::string, std::uint64_t> stats(st->counters.begin(), st->counters.end());
	CHECK(stats["features"] == (p2p::kFeatureChunkMaps | p2p::kFeatureSpareRequests));
	// Before its manifest is in, or after: the map is of this version only.
	std::optional<p2p::HaveMap> map;
	REQUIRE(fixtures::eventually([&] { return (map = fixtures::ask<p2p::HaveMap>(raw, s.have_req())).has_value(); },
	                             20s));
	REQUIRE(map->have.size() == s.chunks.size());
	std::vector<bool> have = map->have;
	auto reply = answer(raw, p2p::ManifestRequest{"big.bin", 0}, have);
	auto* manifest = reply ? std::get_if<p2p::Manifest>(&*reply) : nullptr;
	REQUIRE(manifest);
	CHECK(manifest->chunk_hashes == s.chunks);
	CHECK(manifest->content_hash == s.hash);

	// Mid-download: a chunk not verified yet is refused (unless its HAVE
	// came first: then it is served), and a HAVE'd chunk is its bytes.
	bool refused_one = false;
	std::uint32_t id = 1;
	for (std::uint32_t k = 0; k < have.size() && !refused_one; k++) {
		if (have[k])
			continue;
		std::string bytes;
		auto r = ask_chunk(raw, s, k, id++, have, bytes);
		REQUIRE(r);
		if (auto* e = std::get_if<p2p::Error>(&*r)) {
			CHECK(e->code == p2p::ErrorCode::NotFound);
			CHECK(e->ref == id - 1);
			refused_one = !have[k];
		} else {
			REQUIRE(have[k]);
			CHECK(bytes == s.chunk_bytes(k));
		}
	}
	CHECK(refused_one);
	auto h = next_have(raw);
	REQUIRE(h);
	CHECK(h->name == "big.bin");
	std::string bytes;
	auto served = ask_chunk(raw, s, h->chunk, id++, have, bytes);
	REQUIRE(served);
	REQUIRE(std::holds_alternative<p2p::ChunkData>(*served));
	CHECK(bytes == s.chunk_bytes(h->chunk));

	// Another file (which its peer shares), another version, a file in its
	// folder that it is not downloading, paths outside: errors, no bytes.
	Client probe;
	REQUIRE(probe.connect(port));
	auto other = fixtures::ask<p2p::Error>(probe, p2p::ChunkRequest{1, "other.bin", s.hash, 0, 1000});
	REQUIRE(other);
	CHECK(other->code == p2p::ErrorCode::NotFound);
	auto other_map = fixtures::ask<p2p::Error>(probe, p2p::HaveRequest{"other.bin", 3 * MiB, s.hash});
	REQUIRE(other_map);
	CHECK(other_map->code == p2p::ErrorCode::NotFound);
	auto local = fixtures::ask<p2p::Error>(probe, p2p::ManifestRequest{"outside.bin", 0});
	REQUIRE(local);
	CHECK(local->code == p2p::ErrorCode::NotFound);
	p2p::Hash wrong = s.hash;
	wrong[0] ^= 1;
	auto version = fixtures::ask<p2p::Error>(probe, p2p::HaveRequest{"big.bin", kSize, wrong});
	REQUIRE(version);
	CHECK(version->code == p2p::ErrorCode::Changed);
	for (std::string name : {"../big.bin", "/etc/passwd", ".big.bin.p2part"}) {
		INFO(name);
		Client bad;
		REQUIRE(bad.connect(port));
		auto e = fixtures::ask<p2p::Error>(bad, p2p::ChunkRequest{2, name, s.hash, 0, 100});
		REQUIRE(e);
		CHECK(e->code == p2p::ErrorCode::BadName);
	}

	auto status = get.wait(60s);
	INFO("stderr: " << get.stderr_text());
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
}

TEST_CASE("p2pget --no-serve listens nowhere; by default it listens once", "[p2pget][integration][serve]")
{
	Cluster c;
	Swarm s(c);
	for (bool serve : {false, true}) {
		INFO("serve " << serve);
		fs::remove_all(c.out());
		std::vector<std::string> args{"big.bin"};
		if (!serve)
			args.insert(args.begin(), "--no-serve");
		fixtures::Process get(c.get_argv(args));
		// Mid-download (the peer sends 2 MiB/s): look at its sockets.
		REQUIRE(fixtures::eventually([&] { return fs::exists(c.out() / ".big.bin.p2part"); }, 20s));
		CHECK(listening_sockets(get.pid()) == (serve ? 1u : 0u));
		// Registered as a partial holder, or not at all: only the seed is listed.
		Client idx;
		REQUIRE(idx.connect(c.index_port()));
		std::size_t listed = 0;
		REQUIRE(fixtures::eventually(
			[&] {
				auto r = fixtures::ask<p2p::HoldersReply>(idx, p2p::LookupHolders{"big.bin"});
				listed = r ? r->peers.size() : 0;
				return listed == (serve ? 2u : 1u);
			},
			10s));
		auto status = get.wait(60s);
		REQUIRE(status);
		CHECK(*status == 0);
		CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
	}
}

TEST_CASE("p2pget serving in a closed cluster: MAC'd, and refused without the secret",
          "[p2pget][integration][serve][cluster]")
{
	REQUIRE(p2p::hash_init());
	p2p::SecretKey key = test_secret(5);
	Cluster c(key);
	Swarm s(c, {"--secret-file", c.secret_file()});
	std::uint16_t port = fixtures::free_port();
	fixtures::Process get(
		c.get_argv({"--secret-file", c.secret_file(), "--serve-port", std::to_string(port), "big.bin"}));
	REQUIRE(fixtures::wait_for_port(port));

	Client with;
	REQUIRE(with.connect(port));
	with.set_secret(key);
	std::optional<p2p::HaveMap> map;
	REQUIRE(fixtures::eventually([&] { return (map = fixtures::ask<p2p::HaveMap>(with, s.have_req())).has_value(); },
	                             20s));
	auto h = next_have(with);
	REQUIRE(h);
	std::vector<bool> have(s.chunks.size());
	std::string bytes;
	auto served = ask_chunk(with, s, h->chunk, 1, have, bytes);
	REQUIRE(served);
	REQUIRE(std::holds_alternative<p2p::ChunkData>(*served));
	CHECK(bytes == s.chunk_bytes(h->chunk));

	REQUIRE(fixtures::eventually([&] { return holding(c, port, &key).has_value(); }));

	Client without;
	REQUIRE(without.connect(port));
	REQUIRE(without.send(s.have_req()));
	CHECK(without.closed_by_peer(10s)); // refused (BadAuth), never a map

	auto status = get.wait(60s);
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
}

TEST_CASE("p2pget is listed as a partial holder while it downloads, complete while it seeds, gone after",
          "[p2pget][integration][serve][index]")
{
	REQUIRE(p2p::hash_init());
	Cluster c;
	Swarm s(c);
	std::uint16_t port = fixtures::free_port();
	fixtures::Process get(c.get_argv({"--serve-port", std::to_string(port), "--identity",
	                                  (c.root() / "id.key").string(), "big.bin"}));
	// Partial, with a count that grows as chunks are verified.
	std::optional<p2p::PeerHolding> h;
	REQUIRE(fixtures::eventually([&] { return (h = holding(c, port)) && !h->complete() && h->chunks > 0; }, 30s));
	CHECK(h->size == kSize);
	CHECK(h->hash == s.hash);
	CHECK(h->chunks < s.chunks.size());
	auto status = get.wait(60s);
	INFO("stderr: " << get.stderr_text());
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
	// It unregistered as it stopped; its own key file was made for it.
	CHECK_FALSE(holding(c, port));
	CHECK(fs::file_size(c.root() / "id.key") == 64);
	CHECK((fs::status(c.root() / "id.key").permissions() & fs::perms::group_read) == fs::perms::none);
}

TEST_CASE("a finished p2pget seeds while another downloader is partial, then exits",
          "[p2pget][integration][serve][seed]")
{
	REQUIRE(p2p::hash_init());
	Cluster c;
	Swarm s(c, {}, false);
	// Another downloader of the same version, one chunk in, as the index sees it.
	Client other;
	REQUIRE(other.connect(c.index_port()));
	REQUIRE(fixtures::ask<p2p::Ok>(other, p2p::Register{7399, {}}));
	REQUIRE(other.send(p2p::UpdatePartial{{{{"big.bin", kSize, s.hash}, 1}}}));
	REQUIRE(fixtures::eventually([&] { return holding(c, 7399).has_value(); }));

	std::uint16_t port = fixtures::free_port();
	fixtures::Process get(c.get_argv({"--serve-port", std::to_string(port), "--seed-time", "120", "--json", "big.bin"}));
	// The result is printed when the file is done, before seeding.
	REQUIRE(fixtures::eventually([&] { return get.stdout_text().find("\"status\":\"ok\"") != std::string::npos; },
	                             30s));
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
	CHECK(get.running());
	std::optional<p2p::PeerHolding> h;
	REQUIRE(fixtures::eventually([&] { return (h = holding(c, port)) && h->complete(); }));
	// Still serving: every chunk now, to anyone.
	Client raw;
	REQUIRE(raw.connect(port));
	auto map = fixtures::ask<p2p::HaveMap>(raw, s.have_req());
	REQUIRE(map);
	CHECK(map->have == std::vector<bool>(s.chunks.size(), true));
	raw.close();

	// The other one is gone: no partial holder left, so it stops long
	// before its seed time, and unregisters.
	other.close();
	auto status = get.wait(30s);
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK_FALSE(holding(c, port));
}

TEST_CASE("a lone p2pget exits as soon as it is done, and SIGTERM ends seeding with the downloads' status",
          "[p2pget][integration][serve][seed]")
{
	REQUIRE(p2p::hash_init());
	Cluster c;
	Swarm s(c, {}, false);
	auto lone = c.get({"--seed-time", "120", "big.bin"}, 30s); // far less than its seed time
	CHECK(lone.status == 0);
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));

	Client other;
	REQUIRE(other.connect(c.index_port()));
	REQUIRE(fixtures::ask<p2p::Ok>(other, p2p::Register{7398, {}}));
	REQUIRE(other.send(p2p::UpdatePartial{{{{"big.bin", kSize, s.hash}, 1}}}));
	fs::remove_all(c.out());
	std::uint16_t port = fixtures::free_port();
	fixtures::Process get(c.get_argv({"--serve-port", std::to_string(port), "--seed-time", "120", "--json", "big.bin"}));
	REQUIRE(fixtures::eventually([&] { auto h = holding(c, port); return h && h->complete(); }, 30s));
	CHECK(get.running());
	get.signal(SIGTERM);
	auto status = get.wait(10s);
	REQUIRE(status);
	CHECK(*status == 0);
	CHECK(fixtures::same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
}
