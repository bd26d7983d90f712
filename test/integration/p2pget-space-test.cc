// Free space: a download that cannot fit is refused at once and leaves
// nothing behind, checked on a real small file system (tmpfs, as root).
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <unistd.h>

using namespace p2pget_test;

namespace {

constexpr std::uint64_t MiB = 1 << 20;

// A tmpfs of `size` mounted on `dir` for the test's lifetime.
struct SmallDisk {
	fs::path dir;
	bool mounted = false;
	SmallDisk(fs::path at, const std::string& size) : dir(std::move(at))
	{
		fs::create_directories(dir);
		if (::geteuid() == 0)
			mounted = fixtures::run({"/bin/mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.string()}).status == 0;
	}
	~SmallDisk()
	{
		if (mounted)
			fixtures::run({"/bin/umount", dir.string()});
	}
	std::vector<std::string> entries() const
	{
		std::vector<std::string> out;
		for (auto& e : fs::directory_iterator(dir))
			out.push_back(e.path().filename().string());
		return out;
	}
};

} // namespace

TEST_CASE("p2pget: too little free space is refused at once, leaving nothing", "[p2pget][integration][space]")
{
	Cluster c;
	fixtures::write_file(c.peer_dir(0) / "big.bin", 4 * MiB, 1);
	fixtures::write_text(c.peer_dir(0) / "tiny.txt", "twelve bytes");
	c.start_peer();
	REQUIRE(c.wait_listed("tiny.txt", 1));
	REQUIRE(c.wait_listed("big.bin", 1));
	SmallDisk disk(c.out() / "small", "1m");
	if (!disk.mounted) {
		fixtures::skip("cannot mount a tmpfs here (not root?)");
		return;
	}
	auto get_into = [&](const std::string& name) {
		return fixtures::run({fixtures::bin("p2pget"), "-i", c.index_addr(), "-o", disk.dir.string(), name});
	};
	auto r = get_into("big.bin");
	CHECK(r.status == 1);
	INFO(r.err);
	CHECK(r.err.find("big.bin: download failed: needs 4.0 MiB, ") != std::string::npos);
	CHECK(r.err.find(" free on " + disk.dir.string()) != std::string::npos);
	CHECK(disk.entries().empty());

	// A disk already full: not even empty sidecars of a 12-byte file.
	{
		std::ofstream fill(disk.dir / "filler", std::ios::binary);
		std::string block(64 << 10, 'x');
		for (int i = 0; i < 64 && fill.write(block.data(), static_cast<std::streamsize>(block.size())); i++)
			fill.flush();
	}
	auto tiny = get_into("tiny.txt");
	CHECK(tiny.status == 1);
	CHECK(tiny.err.find("tiny.txt: download failed: ") != std::string::npos);
	CHECK(disk.entries() == std::vector<std::string>{"filler"});
}
