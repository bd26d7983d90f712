// The progress display: redrawn in place on stderr when stderr is a
// terminal (here a pseudo-terminal), absent otherwise and with -q.
#include "p2pget-cluster.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace p2pget_test;

namespace {

// Runs argv with stderr (and with `out_too`, stdout) on a pseudo-terminal
// `cols` wide; returns what it printed there.
std::string stderr_on_tty(const std::vector<std::string>& argv, int& status, unsigned short cols = 80,
                          bool out_too = false)
{
	int master = -1, slave = -1;
	winsize ws{};
	ws.ws_row = 24;
	ws.ws_col = cols;
	REQUIRE(::openpty(&master, &slave, nullptr, nullptr, &ws) == 0);
	pid_t pid = ::fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int devnull = ::open("/dev/null", O_RDWR);
		::dup2(devnull, 0);
		::dup2(out_too ? slave : devnull, 1);
		::dup2(slave, 2);
		::close(master);
		std::vector<char*> args;
		for (auto& a : argv)
			args.push_back(const_cast<char*>(a.c_str()));
		args.push_back(nullptr);
		::execv(args[0], args.data());
		::_exit(127);
	}
	::close(slave);
	std::string out;
	char buf[4096];
	while (true) {
		pollfd p{master, POLLIN, 0};
		if (::poll(&p, 1, 30000) <= 0)
			break;
		ssize_t n = ::read(master, buf, sizeof buf);
		if (n <= 0)
			break; // EIO once the child closed its side
		out.append(buf, static_cast<std::size_t>(n));
	}
	::close(master);
	int st = 0;
	::waitpid(pid, &st, 0);
	status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

} // namespace

TEST_CASE("p2pget: progress display on a terminal only, and not with -q", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_file(c.peer_dir(0) / "p.bin", 24 << 20, 3);
	c.start_peer({"--rate-limit", "16M"});
	REQUIRE(c.wait_listed("p.bin", 1));

	int status = -1;
	auto shown = stderr_on_tty(c.get_argv({"p.bin"}), status);
	CHECK(status == 0);
	INFO(shown);
	CHECK(shown.find('\r') != std::string::npos); // redrawn in place
	CHECK(shown.find("MiB") != std::string::npos);
	CHECK(shown.find("ETA") != std::string::npos);
	CHECK(shown.find("peer") != std::string::npos);
	CHECK(shown.find("100%") != std::string::npos);

	std::filesystem::remove(c.out() / "p.bin");
	auto quiet = stderr_on_tty(c.get_argv({"-q", "p.bin"}), status);
	CHECK(status == 0);
	CHECK(quiet.empty());
	CHECK(fixtures::same_contents(c.out() / "p.bin", c.peer_dir(0) / "p.bin"));
}

namespace {

// The redraws of the progress line: what follows each \r up to the next \r
// or newline, without the erase-to-end-of-line sequence (the terminal
// turns each newline into \r\n: those give nothing).
std::vector<std::string> redraws(const std::string& shown)
{
	std::vector<std::string> out;
	std::size_t at = 0;
	while ((at = shown.find('\r', at)) != std::string::npos) {
		std::size_t end = shown.find_first_of("\r\n", at + 1);
		std::string line = shown.substr(at + 1, end == std::string::npos ? std::string::npos : end - at - 1);
		if (auto k = line.find("\033[K"); k != std::string::npos)
			line.erase(k, 3);
		if (!line.empty())
			out.push_back(line);
		at += 1;
	}
	return out;
}

// Columns on a terminal, one per UTF-8 character (as p2pget counts them,
// but counted here on its own: the test must not trust what it checks).
std::size_t columns(const std::string& s)
{
	return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
		return (static_cast<unsigned char>(c) & 0xc0) != 0x80;
	}));
}

} // namespace

TEST_CASE("p2pget: the progress line fits a narrow terminal and names the file", "[p2pget][integration]")
{
	Cluster c;
	for (int i = 0; i < 3; i++)
		fixtures::write_file(c.peer_dir(0) / ("narrow-" + std::to_string(i) + ".bin"), 8 << 20, 10 + i);
	c.start_peer({"--rate-limit", "16M"});
	REQUIRE(c.wait_listed("narrow-2.bin", 1));

	int status = -1;
	auto shown = stderr_on_tty(c.get_argv({"narrow-0.bin", "narrow-1.bin", "narrow-2.bin"}), status, 50);
	CHECK(status == 0);
	INFO(shown);
	auto lines = redraws(shown);
	REQUIRE(lines.size() >= 2);
	for (auto& line : lines)
		CHECK(columns(line) < 50);
	CHECK(lines.back().find("100%") == 0);
	CHECK(lines.back().find("0 peers") == std::string::npos);

	// Wide enough, the file in progress is named.
	for (int i = 0; i < 3; i++)
		std::filesystem::remove(c.out() / ("narrow-" + std::to_string(i) + ".bin"));
	shown = stderr_on_tty(c.get_argv({"narrow-0.bin", "narrow-1.bin", "narrow-2.bin"}), status, 200);
	CHECK(status == 0);
	CHECK(shown.find("files]  narrow-") != std::string::npos);
	for (int i = 0; i < 3; i++)
		CHECK(fixtures::same_contents(c.out() / ("narrow-" + std::to_string(i) + ".bin"),
		                              c.peer_dir(0) / ("narrow-" + std::to_string(i) + ".bin")));
}

TEST_CASE("p2pget --list: column headers on a terminal, none in a pipe", "[p2pget][integration]")
{
	Cluster c;
	fixtures::write_text(c.peer_dir(0) / "listed.txt", "x\n");
	c.start_peer();
	REQUIRE(c.wait_listed("listed.txt", 1));
	int status = -1;
	auto shown = stderr_on_tty(c.get_argv({"--list"}), status, 80, true);
	CHECK(status == 0);
	INFO(shown);
	CHECK(shown.find("SIZE  PEERS  HASH") != std::string::npos);
	CHECK(shown.find("listed.txt") > shown.find("NAME"));
	auto piped = c.get({"--list"});
	CHECK(piped.out.find("PEERS") == std::string::npos);
	CHECK(piped.out.find("listed.txt") != std::string::npos);
}
