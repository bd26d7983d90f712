// p2pget in a closed cluster (--secret-file): with the secret everything
// works as before; without it, or with another, the index refuses us and
// p2pget says so and exits 4, leaving no file; a peer whose MACs fail is
// dropped like any bad peer.
#include "p2pget-bad-peer.h"
#include "p2pget-cluster.h"

#include "p2p/frame-step.h"
#include "p2p/hash.h"

#include <catch2/catch.hpp>

using namespace p2pget_test;
using fixtures::same_contents;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;
const std::string kRefused = "p2pget: the index refused us: frame MAC missing or wrong (is --secret-file the same?)";

// peerd's --secret-file arrives separately; until it does, the tests that
// need peerd in a closed cluster say so and pass without running.
bool peerd_has_secret()
{
	auto r = fixtures::run({fixtures::bin("peerd"), "--help"}, {}, std::chrono::seconds(10));
	return r.out.find("--secret-file") != std::string::npos;
}

// Registers `name` at the cluster's index from a connection the test keeps.
void register_file(fixtures::Client& c, Cluster& cluster, const p2p::SecretKey& key, const std::string& name,
                   std::uint16_t port)
{
	REQUIRE(c.connect(cluster.index_port()));
	c.set_secret(key);
	REQUIRE(fixtures::ask<p2p::Ok>(c, p2p::Register{port, {{name, 3 * MiB, p2p::hash_bytes(name.data(), name.size())}}}));
}

} // namespace

TEST_CASE("p2pget closed cluster: --list and --lookup with the secret, refused without it",
          "[p2pget][integration][cluster]")
{
	p2p::SecretKey key = test_secret(1);
	Cluster c(key);
	fixtures::Client peer;
	register_file(peer, c, key, "a.bin", 7301);
	std::string wrong = write_secret(c.root() / "wrong.secret", test_secret(2));

	auto list = c.get({"--secret-file", c.secret_file(), "--list", "--json"});
	CHECK(list.status == 0);
	CHECK(list.out.find("\"name\":\"a.bin\"") != std::string::npos);
	auto lookup = c.get({"--secret-file", c.secret_file(), "--lookup", "a.bin"});
	CHECK(lookup.status == 0);
	CHECK(lookup.out.find("127.0.0.1:7301") != std::string::npos);
	// $P2P_SECRET_FILE stands in for --secret-file.
	auto env = fixtures::run(c.get_argv({"--lookup", "a.bin"}), {"P2P_SECRET_FILE=" + c.secret_file()});
	CHECK(env.status == 0);
	CHECK(env.out.find("127.0.0.1:7301") != std::string::npos);

	SECTION("no secret: refused (indexd waits up to 2 s for the missing MAC)")
	{
		double start = now_seconds();
		auto r = c.get({"--list"});
		CHECK(r.status == 4);
		CHECK(r.err.find(kRefused) != std::string::npos);
		CHECK(r.out.empty());
		CHECK(now_seconds() - start < 15); // not left hanging until some timeout
		r = c.get({"--lookup", "a.bin"});
		CHECK(r.status == 4);
		CHECK(r.err.find(kRefused) != std::string::npos);
	}
	SECTION("another secret: refused at once")
	{
		auto r = c.get({"--secret-file", wrong, "--list"});
		CHECK(r.status == 4);
		CHECK(r.err.find(kRefused) != std::string::npos);
		r = c.get({"--secret-file", wrong, "--lookup", "a.bin", "--json"});
		CHECK(r.status == 4);
		CHECK(r.err.find(kRefused) != std::string::npos);
		CHECK(r.out.empty());
	}
	SECTION("a secret file that cannot be used: usage error")
	{
		auto r = c.get({"--secret-file", (c.root() / "none").string(), "--list"});
		CHECK(r.status == 2);
		CHECK(r.err.find("p2pget: --secret-file " + (c.root() / "none").string() + ": No such file") == 0);
		fixtures::write_text(c.root() / "short.secret", "0123456789abcdef\n");
		r = c.get({"--secret-file", (c.root() / "short.secret").string(), "a.bin"});
		CHECK(r.status == 2);
		CHECK(r.err.find("a secret file holds 32 bytes, or 64 hex digits") != std::string::npos);
		CHECK(fs::is_empty(c.out()));
	}
	// The index still serves its cluster after the refusals.
	CHECK(c.get({"--secret-file", c.secret_file(), "--lookup", "a.bin"}).status == 0);
}

TEST_CASE("p2pget closed cluster: downloads refused without the secret leave no file",
          "[p2pget][integration][cluster]")
{
	p2p::SecretKey key = test_secret(3);
	Cluster c(key);
	fixtures::Client peer;
	register_file(peer, c, key, "a.bin", 7302);
	register_file(peer, c, key, "b.bin", 7302);

	std::vector<std::string> secret_args;
	SECTION("no secret") {}
	SECTION("another secret")
	{
		secret_args = {"--secret-file", write_secret(c.root() / "wrong.secret", test_secret(4))};
	}
	secret_args.insert(secret_args.end(), {"a.bin", "b.bin"});
	auto r = c.get(secret_args);
	CHECK(r.status == 4);
	CHECK(r.err.find(kRefused) != std::string::npos);
	// Said once, not once per name.
	CHECK(r.err.find(kRefused) == r.err.rfind(kRefused));
	CHECK(fs::is_empty(c.out()));
}

TEST_CASE("p2pget with a secret against an open index: exit 4 with a hint", "[p2pget][integration][cluster]")
{
	Cluster c;
	std::string secret = write_secret(c.root() / "x.secret", test_secret(5));
	auto r = c.get({"--secret-file", secret, "--list"});
	CHECK(r.status == 4);
	CHECK(r.err.find("p2pget: ") == 0);
	CHECK(r.err.find("--secret-file") != std::string::npos);
}

TEST_CASE("p2pget closed cluster: a peer whose MACs fail is dropped", "[p2pget][integration][cluster]")
{
	p2p::SecretKey key = test_secret(6);
	Cluster c(key);
	fs::create_directories(c.peer_dir(0));
	fixtures::write_file(c.peer_dir(0) / "m.bin", 3 * MiB + 5, 9);
	BadPeer liar(c.index_port(), c.peer_dir(0), {"m.bin"}, c.root() / "liar.log", {key, test_secret(7)});
	auto r = c.get({"--secret-file", c.secret_file(), "--json", "m.bin"});
	CHECK(r.status == 1);
	CHECK(r.err.find("MAC missing or wrong") != std::string::npos);
	CHECK(r.out.find("\"status\":\"failed\"") != std::string::npos);
	CHECK_FALSE(fs::exists(c.out() / "m.bin"));
}

TEST_CASE("p2pget closed cluster: a peer whose frames come without MACs is dropped at the 2 s grace",
          "[p2pget][integration][cluster]")
{
	p2p::SecretKey key = test_secret(10);
	Cluster c(key);
	fs::create_directories(c.peer_dir(0));
	fixtures::write_file(c.peer_dir(0) / "n.bin", 3 * MiB, 12);
	// Registered with the cluster's MAC, but it answers without any.
	BadPeer plain(c.index_port(), c.peer_dir(0), {"n.bin"}, c.root() / "plain.log", {key, std::nullopt});
	double start = now_seconds();
	auto r = c.get({"--secret-file", c.secret_file(), "-t", "30", "--json", "n.bin"});
	double took = now_seconds() - start;
	CHECK(r.status == 1);
	CHECK(r.err.find(p2p::refusal(p2p::FrameFault::MacMissing).why) != std::string::npos);
	CHECK(r.out.find("\"status\":\"failed\"") != std::string::npos);
	CHECK(took < 15); // the grace (2 s), not the request timeout (-t 30)
	CHECK_FALSE(fs::exists(c.out() / "n.bin"));
}

// Needs peerd --secret-file: skipped (with a warning) when peerd lacks it.
TEST_CASE("p2pget closed cluster: a multi-chunk download from peerd with the secret is byte-identical",
          "[p2pget][integration][cluster][peerd-secret]")
{
	if (!peerd_has_secret()) {
		fixtures::skip("this peerd has no --secret-file yet");
		return;
	}
	p2p::SecretKey key = test_secret(8);
	Cluster c(key);
	const std::uint64_t size = 9 * MiB + 4321; // 5 chunks
	fixtures::write_file(c.peer_dir(0) / "big.bin", size, 11);
	fs::create_directories(c.peer_dir(1));
	fs::copy_file(c.peer_dir(0) / "big.bin", c.peer_dir(1) / "big.bin");
	c.start_peer({"--secret-file", c.secret_file()});
	c.start_peer({"--secret-file", c.secret_file()});
	REQUIRE(c.wait_listed("big.bin", 2, std::chrono::seconds(30)));

	SECTION("both peers honest")
	{
		auto r = c.get({"--secret-file", c.secret_file(), "--json", "big.bin"});
		REQUIRE(r.status == 0);
		CHECK(same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
		CHECK(json_number(r.out, "bad_chunks") == 0);
	}
	SECTION("beside a peer whose MACs fail")
	{
		fs::create_directories(c.peer_dir(2));
		fs::copy_file(c.peer_dir(0) / "big.bin", c.peer_dir(2) / "big.bin");
		BadPeer liar(c.index_port(), c.peer_dir(2), {"big.bin"}, c.root() / "liar.log", {key, test_secret(9)});
		REQUIRE(c.wait_listed("big.bin", 3));
		auto r = c.get({"--secret-file", c.secret_file(), "big.bin"});
		REQUIRE(r.status == 0);
		CHECK(same_contents(c.out() / "big.bin", c.peer_dir(0) / "big.bin"));
	}
	SECTION("without the secret: refused by the index, no file")
	{
		auto r = c.get({"big.bin"});
		CHECK(r.status == 4);
		CHECK(r.err.find(kRefused) != std::string::npos);
		CHECK(fs::is_empty(c.out()));
	}
}
