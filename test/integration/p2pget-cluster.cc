// The cluster fixture for p2pget's tests; see p2pget-cluster.h.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <ctime>
#include <stdexcept>

namespace p2pget_test {

using namespace std::chrono;

Cluster::Cluster() : index_port_(fixtures::free_port()) { start_index({}); }

Cluster::Cluster(const p2p::SecretKey& secret) : secret_(secret), index_port_(fixtures::free_port())
{
	secret_file_ = write_secret(tmp_.path() / "cluster.secret", secret);
	start_index({"--secret-file", secret_file_});
}

void Cluster::start_index(std::vector<std::string> extra_args)
{
	fs::create_directories(out());
	std::vector<std::string> argv{fixtures::bin("indexd"), "-p", std::to_string(index_port_), "-l", "127.0.0.1",
	                              "-t", "30"};
	argv.insert(argv.end(), extra_args.begin(), extra_args.end());
	index_ = std::make_unique<fixtures::Process>(argv);
	if (!fixtures::wait_for_port(index_port_))
		throw std::runtime_error("indexd did not start: " + index_->stderr_text());
}

fs::path Cluster::peer_dir(std::size_t i) const { return tmp_.path() / "peers" / std::to_string(i + 1); }

std::size_t Cluster::start_peer(std::vector<std::string> extra_args)
{
	std::size_t i = peers_.size();
	fs::create_directories(peer_dir(i));
	std::uint16_t port = fixtures::free_port();
	std::vector<std::string> argv{fixtures::bin("peerd"), "-d", peer_dir(i).string(), "-i", index_addr(),
	                              "-p", std::to_string(port)};
	argv.insert(argv.end(), extra_args.begin(), extra_args.end());
	peers_.push_back({port, std::make_unique<fixtures::Process>(argv)});
	if (!fixtures::wait_for_port(port))
		throw std::runtime_error("peerd did not start: " + peers_.back().proc->stderr_text());
	return i;
}

bool Cluster::wait_listed(const std::string& name, std::size_t peers, milliseconds timeout)
{
	return fixtures::eventually(
		[&] {
			fixtures::Client c;
			if (!c.connect(index_port_))
				return false;
			if (secret_)
				c.set_secret(*secret_);
			auto r = fixtures::ask<p2p::LookupReply>(c, p2p::Lookup{name});
			return r && r->peers.size() == peers;
		},
		timeout);
}

std::vector<std::string> Cluster::get_argv(std::vector<std::string> args) const
{
	std::vector<std::string> argv{fixtures::bin("p2pget"), "-i", index_addr(), "-o", out().string()};
	argv.insert(argv.end(), args.begin(), args.end());
	return argv;
}

fixtures::RunResult Cluster::get(std::vector<std::string> args, milliseconds timeout)
{
	auto r = fixtures::run(get_argv(std::move(args)), {}, timeout);
	UNSCOPED_INFO("p2pget exit " << r.status << "\nstdout: " << r.out << "\nstderr: " << r.err);
	return r;
}

std::uint64_t json_number(const std::string& json, const std::string& key)
{
	auto pos = json.find("\"" + key + "\":");
	if (pos == std::string::npos)
		throw std::runtime_error("no " + key + " in " + json);
	return std::stoull(json.substr(pos + key.size() + 3));
}

std::string write_secret(const fs::path& path, const p2p::SecretKey& key)
{
	std::string bytes(reinterpret_cast<const char*>(key.data()), key.size());
	fixtures::write_text(path, bytes);
	return path.string();
}

p2p::SecretKey test_secret(std::uint8_t seed)
{
	p2p::SecretKey k{};
	for (std::size_t i = 0; i < k.size(); i++)
		k[i] = static_cast<std::uint8_t>(seed * 29 + i * 11 + 3);
	return k;
}

double now_seconds()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

} // namespace p2pget_test
