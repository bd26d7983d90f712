#include "p2p/identity.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

using namespace p2p;
namespace fs = std::filesystem;

namespace {
struct KeyPath {
	fs::path dir;
	KeyPath()
	{
		char tmpl[] = "/tmp/p2p-identity-XXXXXX";
		dir = ::mkdtemp(tmpl);
	}
	~KeyPath() { fs::remove_all(dir); }
	std::string file() const { return (dir / "identity").string(); }
};
Register sample() { return Register{60001, {{"a.txt", 3, hash_bytes("abc", 3)}}}; }
} // namespace

TEST_CASE("a key is made once, kept private, and read back", "[identity]")
{
	REQUIRE(hash_init());
	KeyPath k;
	std::string error;
	auto first = Identity::load_or_create(k.file(), &error);
	REQUIRE(first);
	struct stat st;
	REQUIRE(::stat(k.file().c_str(), &st) == 0);
	CHECK((st.st_mode & 0777) == 0600);
	auto again = Identity::load_or_create(k.file(), &error);
	REQUIRE(again);
	CHECK(again->public_key() == first->public_key());

	::chmod(k.file().c_str(), 0644);
	CHECK_FALSE(Identity::load_or_create(k.file(), &error));
	CHECK(error.find("readable by others") != std::string::npos);
}

TEST_CASE("a registration signature binds key, nonce, port and files", "[identity]")
{
	REQUIRE(hash_init());
	KeyPath k, other;
	std::string error;
	auto id = Identity::load_or_create(k.file(), &error);
	auto stranger = Identity::load_or_create(other.file(), &error);
	REQUIRE(id);
	REQUIRE(stranger);
	Nonce nonce = make_nonce();
	Register reg = sample();
	Signature sig = id->sign_registration(nonce, reg);
	CHECK(verify_registration(id->public_key(), sig, nonce, reg));

	CHECK_FALSE(verify_registration(stranger->public_key(), sig, nonce, reg)); // wrong key
	CHECK_FALSE(verify_registration(id->public_key(), sig, make_nonce(), reg)); // replayed on a new challenge
	Register moved = reg;
	moved.port = 60002;
	CHECK_FALSE(verify_registration(id->public_key(), sig, nonce, moved)); // another port
	Register more = reg;
	more.files.push_back({"b.txt", 1, {}});
	CHECK_FALSE(verify_registration(id->public_key(), sig, nonce, more)); // another file list
}

TEST_CASE("a generated identity signs, and each one is new", "[identity]")
{
	REQUIRE(hash_init());
	Identity a = Identity::generate();
	Identity b = Identity::generate();
	CHECK(a.public_key() != b.public_key());
	Nonce nonce = make_nonce();
	Register reg = sample();
	CHECK(verify_registration(a.public_key(), a.sign_registration(nonce, reg), nonce, reg));
	CHECK_FALSE(verify_registration(b.public_key(), a.sign_registration(nonce, reg), nonce, reg));
}
