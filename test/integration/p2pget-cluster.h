// Test helpers for p2pget's integration tests: a real indexd and real
// peerd processes on free loopback ports, each sharing its own folder, and
// a runner for p2pget itself. Everything is stopped by PID (fixtures.h).
#pragma once

#include "fixtures.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace p2pget_test {

namespace fs = std::filesystem;

class Cluster {
public:
	Cluster();
	// A closed cluster: indexd runs with --secret-file holding `secret`,
	// and the cluster's own index client MACs its frames. Peers and
	// p2pget get secret_file() only when a test passes it.
	explicit Cluster(const p2p::SecretKey& secret);
	// The secret's file (empty in an open cluster).
	const std::string& secret_file() const { return secret_file_; }
	// Starts a peerd sharing root()/peers/ID; returns its index in peers().
	std::size_t start_peer(std::vector<std::string> extra_args = {});
	fs::path peer_dir(std::size_t i) const;
	fixtures::Process& peer(std::size_t i) { return *peers_.at(i).proc; }
	std::uint16_t peer_port(std::size_t i) const { return peers_.at(i).port; }
	std::uint16_t index_port() const { return index_port_; }
	std::string index_addr() const { return "127.0.0.1:" + std::to_string(index_port_); }
	const fs::path& root() const { return tmp_.path(); }
	fs::path out() const { return tmp_.path() / "out"; }

	// Waits until the index lists `name` at `peers` peers (all versions).
	bool wait_listed(const std::string& name, std::size_t peers,
	                 std::chrono::milliseconds timeout = std::chrono::seconds(20));
	// Runs p2pget against this cluster's index, writing into out().
	fixtures::RunResult get(std::vector<std::string> args,
	                        std::chrono::milliseconds timeout = std::chrono::seconds(60));
	std::vector<std::string> get_argv(std::vector<std::string> args) const;

private:
	struct Peer {
		std::uint16_t port;
		std::unique_ptr<fixtures::Process> proc;
	};
	void start_index(std::vector<std::string> extra_args);

	fixtures::TempDir tmp_;
	std::optional<p2p::SecretKey> secret_;
	std::string secret_file_;
	std::uint16_t index_port_;
	std::unique_ptr<fixtures::Process> index_;
	std::vector<Peer> peers_;
};

// A number from a JSON line: the value of the first "key": in `json`.
std::uint64_t json_number(const std::string& json, const std::string& key);
// Writes `key` as 32 raw bytes to `path`; returns the path.
std::string write_secret(const fs::path& path, const p2p::SecretKey& key);
// A deterministic test secret.
p2p::SecretKey test_secret(std::uint8_t seed);
// Seconds since an arbitrary start, for loose duration checks.
double now_seconds();

} // namespace p2pget_test
