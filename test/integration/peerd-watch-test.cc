// Every way a file can appear or change under a running peerd is told to
// the index, and a file still being written is not, until it is closed.
#include "peerd-harness.h"

#include <fcntl.h>
#include <unistd.h>

using namespace peerd_test;

namespace {

// A file written through `fd` and left open, as a slow writer does (close
// on exec: peerd, started after, must not hold it open too).
struct OpenWriter {
	int fd;
	explicit OpenWriter(const fs::path& path) : fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644))
	{
		REQUIRE(fd >= 0);
	}
	~OpenWriter() { close(); }
	void write(const std::string& s) { REQUIRE(::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
	void close()
	{
		if (fd >= 0)
			::close(fd);
		fd = -1;
	}
};

} // namespace

TEST_CASE("peerd announces files that appear by link, linkat, copy or truncate", "[peerd][index][watch]")
{
	Index index;
	index.start();
	Peer peer;
	write_text(peer.dir / "first", "1");
	peer.start(index.addr());
	REQUIRE(peer.ready());

	// A hard link from outside the share: IN_CREATE and nothing else.
	write_file(peer.root / "outside.bin", 3 << 20, 4);
	REQUIRE(::link((peer.root / "outside.bin").c_str(), (peer.dir / "linked.bin").c_str()) == 0);
	CHECK(eventually([&] { return index_has(index.port, "linked.bin", peer.port, file_content_hash(peer.dir / "linked.bin")); }));

	// Published whole, the careful way: O_TMPFILE, then linkat().
	int fd = ::open(peer.dir.c_str(), O_TMPFILE | O_WRONLY, 0644);
	REQUIRE(fd >= 0);
	std::string body(1 << 20, 'q');
	REQUIRE(::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
	std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
	REQUIRE(::linkat(AT_FDCWD, proc_path.c_str(), AT_FDCWD, (peer.dir / "published.bin").c_str(), AT_SYMLINK_FOLLOW) == 0);
	::close(fd);
	CHECK(eventually([&] { return index_has(index.port, "published.bin", peer.port, file_content_hash(peer.dir / "published.bin")); }));

	// Copied in.
	fs::copy_file(peer.root / "outside.bin", peer.dir / "copied.bin");
	CHECK(eventually([&] { return index_has(index.port, "copied.bin", peer.port, file_content_hash(peer.dir / "copied.bin")); }));

	// Truncated by path (truncate(2) opens nothing: IN_MODIFY only).
	REQUIRE(::truncate((peer.dir / "copied.bin").c_str(), 1000) == 0);
	CHECK(eventually([&] { return index_has(index.port, "copied.bin", peer.port, file_content_hash(peer.dir / "copied.bin")); }));
	peer.stop();
}

TEST_CASE("peerd shares a file being written only once it is closed", "[peerd][index][watch]")
{
	Index index;
	index.start();
	Peer peer;
	// Open for writing before peerd starts, and after.
	OpenWriter before(peer.dir / "before.bin");
	before.write(std::string(100000, 'b'));
	write_text(peer.dir / "first", "1");
	peer.start(index.addr());
	REQUIRE(peer.ready());
	OpenWriter during(peer.dir / "during.bin");
	during.write(std::string(100000, 'd'));
	REQUIRE(eventually([&] { return index_has(index.port, "first", peer.port); }));
	// Well past the watch's settle time and the 2 s promise: still unlisted.
	std::this_thread::sleep_for(3s);
	CHECK_FALSE(index_has(index.port, "before.bin", peer.port));
	CHECK_FALSE(index_has(index.port, "during.bin", peer.port));

	before.write("and the rest");
	during.write("and the rest");
	before.close();
	during.close();
	CHECK(eventually([&] { return index_has(index.port, "before.bin", peer.port, file_content_hash(peer.dir / "before.bin")); }));
	CHECK(eventually([&] { return index_has(index.port, "during.bin", peer.port, file_content_hash(peer.dir / "during.bin")); }));
	peer.stop();
}
