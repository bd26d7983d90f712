// The filesystem side of peerd without a daemon: the share scan, the
// beneath-DIR opener, and the hash cache.
#include "../../src/peerd/hash-cache.h"
#include "../../src/serve/safe-open.h"
#include "../../src/peerd/share-scan.h"

#include "p2p/codec.h"
#include "p2p/hash.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

struct Tree {
	fs::path root;
	int fd = -1;
	Tree()
	{
		std::string tmpl = (fs::temp_directory_path() / "peerd-unit-XXXXXX").string();
		root = ::mkdtemp(tmpl.data());
		fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	~Tree()
	{
		::close(fd);
		std::error_code ec;
		fs::remove_all(root, ec);
	}
	void file(const std::string& rel, const std::string& text = "x")
	{
		fs::create_directories((root / rel).parent_path());
		std::ofstream(root / rel) << text;
	}
};

std::vector<std::string> names(const peerd::ScanResult& r)
{
	std::vector<std::string> out;
	for (auto& f : r.files)
		out.push_back(f.name);
	return out;
}

std::string read_fd(int fd)
{
	std::string s(64, '\0');
	auto n = ::read(fd, s.data(), s.size());
	::close(fd);
	s.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
	return s;
}

} // namespace

TEST_CASE("share scan: regular files, relative names, no hidden, no links", "[peerd][scan]")
{
	Tree t;
	t.file("a.txt");
	t.file("sub/b.bin", "hello");
	t.file("sub/deeper/c");
	t.file(".hidden");
	t.file(".peerd/hashes");
	t.file("sub/.partial");
	t.file(".dir/inside");
	t.file("outside/secret");
	fs::create_symlink(t.root / "a.txt", t.root / "link-to-file");
	fs::create_directory_symlink(t.root / "outside", t.root / "link-to-dir");
	::mkfifo((t.root / "fifo").c_str(), 0644);

	peerd::ScanResult r;
	REQUIRE(peerd::scan_share(t.fd, "", r));
	CHECK(names(r) == std::vector<std::string>{"a.txt", "outside/secret", "sub/b.bin", "sub/deeper/c"});
	CHECK(r.files[2].st.size == 5);
	CHECK(r.skipped >= 6);
	CHECK(std::find(r.dirs.begin(), r.dirs.end(), "sub/deeper") != r.dirs.end());

	peerd::ScanResult sub;
	REQUIRE(peerd::scan_share(t.fd, "sub", sub));
	CHECK(names(sub) == std::vector<std::string>{"sub/b.bin", "sub/deeper/c"});

	peerd::ScanResult none;
	CHECK_FALSE(peerd::scan_share(t.fd, "link-to-dir", none));
	CHECK_FALSE(peerd::scan_share(t.fd, "../", none));
}

TEST_CASE("open_beneath: inside DIR only, never through a link", "[peerd][safe-open]")
{
	Tree t;
	t.file("ok/file", "inside");
	fs::create_symlink("/etc/passwd", t.root / "abs-link");
	fs::create_symlink("ok/file", t.root / "rel-link");
	fs::create_directory_symlink("/etc", t.root / "dir-link");

	for (bool walk : {false, true}) {
		INFO((walk ? "checked walk" : "openat2"));
		auto open = [&](const char* name) {
			return walk ? serve::open_beneath_walk(t.fd, name, O_RDONLY) : serve::open_beneath(t.fd, name, O_RDONLY);
		};
		int fd = open("ok/file");
		REQUIRE(fd >= 0);
		CHECK(read_fd(fd) == "inside");

		for (const char* bad : {"abs-link", "rel-link", "dir-link/passwd", "../etc/passwd", "/etc/passwd",
		                        "ok/../ok/file", "ok//file", ".hidden", "ok/missing", "ok/"}) {
			INFO("name: " << bad);
			errno = 0;
			int bfd = open(bad);
			CHECK(bfd < 0);
			if (bfd >= 0)
				::close(bfd);
		}
		std::string nul("ok/file\0/../../x", 16);
		CHECK(open(nul.c_str()) >= 0); // C string stops at the NUL...
		CHECK(serve::open_beneath(t.fd, nul, O_RDONLY) < 0); // ...the name with it is refused
		CHECK(errno == EINVAL);
	}

	struct stat st;
	CHECK(serve::stat_beneath(t.fd, "rel-link", st) == 0);
	CHECK(S_ISLNK(st.st_mode));
	CHECK(serve::stat_beneath(t.fd, "dir-link/passwd", st) != 0);
	CHECK(serve::stat_beneath(t.fd, "ok", st) == 0);
	CHECK(S_ISDIR(st.st_mode));
}

TEST_CASE("hash cache: round trip, keyed by size, mtime and inode", "[peerd][hash-cache]")
{
	Tree t;
	std::string path = (t.root / "hashes").string();
	peerd::ShareTable table;
	peerd::SharedFile big{"dir/big", {5u << 20, 123456789012345678, 42}, {}, {}};
	big.chunks = {p2p::hash_bytes("a", 1), p2p::hash_bytes("b", 1), p2p::hash_bytes("c", 1)};
	big.content = p2p::content_hash(big.chunks);
	peerd::SharedFile empty{"empty", {0, 1, 43}, {}, p2p::content_hash({})};
	table.put(big);
	table.put(empty);
	REQUIRE(peerd::HashCache::save(path, table));
	CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(getpid())));

	peerd::HashCache cache;
	REQUIRE(cache.load(path));
	CHECK(cache.size() == 2);
	auto hit = cache.lookup("dir/big", big.st);
	REQUIRE(hit);
	CHECK(hit->chunks == big.chunks);
	CHECK(hit->content == big.content);
	CHECK(cache.lookup("empty", empty.st));

	// Any change of the key misses.
	CHECK_FALSE(cache.lookup("dir/big", {big.st.size + 1, big.st.mtime_ns, big.st.inode}));
	CHECK_FALSE(cache.lookup("dir/big", {big.st.size, big.st.mtime_ns + 1, big.st.inode}));
	CHECK_FALSE(cache.lookup("dir/big", {big.st.size, big.st.mtime_ns, big.st.inode + 1}));
	CHECK_FALSE(cache.lookup("other", {big.st.size, big.st.mtime_ns, big.st.inode + 1}));
}

TEST_CASE("hash cache: a file renamed keeps its hashes; the key must match exactly", "[peerd][hash-cache]")
{
	peerd::HashCache cache;
	peerd::SharedFile f{"old/name", {3, 7, 99}, {p2p::hash_bytes("abc", 3)}, {}};
	f.content = p2p::content_hash(f.chunks);
	cache.remember(f);
	auto moved = cache.lookup("new/name", f.st);
	REQUIRE(moved);
	CHECK(moved->name == "new/name");
	CHECK(moved->chunks == f.chunks);
	CHECK(moved->content == f.content);
	CHECK_FALSE(cache.lookup("new/name", {3, 8, 99}));
	CHECK_FALSE(cache.lookup("new/name", {3, 7, 98}));

	// Once the old name holds a newer version, its old key is gone.
	peerd::SharedFile newer{"old/name", {4, 8, 99}, {p2p::hash_bytes("abcd", 4)}, {}};
	newer.content = p2p::content_hash(newer.chunks);
	cache.remember(newer);
	CHECK_FALSE(cache.lookup("new/name", f.st));
	CHECK(cache.lookup("elsewhere", newer.st));
}

TEST_CASE("hash cache: a damaged file is an empty cache, never a wrong hash", "[peerd][hash-cache]")
{
	Tree t;
	std::string path = (t.root / "hashes").string();
	peerd::ShareTable table;
	peerd::SharedFile f{"f", {10, 1, 2}, {p2p::hash_bytes("0123456789", 10)}, {}};
	f.content = p2p::content_hash(f.chunks);
	table.put(f);
	REQUIRE(peerd::HashCache::save(path, table));
	std::string good;
	{
		std::ifstream in(path, std::ios::binary);
		good.assign(std::istreambuf_iterator<char>(in), {});
	}
	peerd::HashCache cache;
	CHECK_FALSE(cache.load((t.root / "missing").string()));

	for (std::size_t cut : {std::size_t(0), std::size_t(5), good.size() / 2, good.size() - 1}) {
		std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, cut);
		CHECK_FALSE(cache.load(path));
		CHECK(cache.size() == 0);
	}
	std::string flipped = good;
	flipped[good.size() - 40] ^= 1; // inside a chunk hash
	std::ofstream(path, std::ios::binary | std::ios::trunc) << flipped;
	CHECK_FALSE(cache.load(path));
	std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
	CHECK(cache.load(path));
}

TEST_CASE("share table: changes become update pages; full pages fit a frame", "[peerd][share-table]")
{
	peerd::ShareTable table;
	for (int i = 0; i < 30000; i++)
		table.put({"some/longer/folder/name/file-" + std::to_string(i), {1, 1, 1}, {}, {}});
	p2p::Register reg;
	std::vector<p2p::Update> rest;
	table.full_pages(60001, reg, rest);
	CHECK(reg.port == 60001);
	std::size_t total = reg.files.size();
	for (auto& u : rest) {
		total += u.added.size();
		CHECK(u.removed.empty());
		CHECK(p2p::encode(u).size() <= p2p::kHeaderSize + p2p::kMaxPayload);
	}
	CHECK(p2p::encode(reg).size() <= p2p::kHeaderSize + p2p::kMaxPayload);
	CHECK(total == 30000);
	CHECK_FALSE(rest.empty());

	table.clear_changes();
	CHECK_FALSE(table.has_changes());
	table.erase("some/longer/folder/name/file-1");
	table.put({"new", {2, 2, 2}, {}, {}});
	table.put({"gone-again", {2, 2, 2}, {}, {}});
	table.erase("gone-again");
	auto pages = table.take_updates();
	REQUIRE(pages.size() == 1);
	auto& page = std::get<p2p::Update>(pages[0]);
	CHECK(page.added.size() == 1);
	CHECK(page.added[0].name == "new");
	CHECK(page.removed == std::vector<std::string>{"gone-again", "some/longer/folder/name/file-1"});
	CHECK_FALSE(table.has_changes());
	CHECK(table.names_under("some/longer").size() == 29999);
	CHECK(table.names_under("new") == std::vector<std::string>{"new"});
}
