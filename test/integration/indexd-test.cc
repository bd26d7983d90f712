// indexd over real sockets: a real ./indexd process on a free loopback port,
// driven by the blocking codec client of fixtures.h.
#include "indexd-harness.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <map>
#include <string>
#include <thread>

using namespace fixtures;
using namespace indexd_test;
using namespace std::chrono_literals;
using p2p::ErrorCode;
using p2p::FileEntry;

namespace {

bool acked(Client& c, const p2p::Message& msg, p2p::MsgType of)
{
	auto r = ask<p2p::Ok>(c, msg);
	return r && r->of == of;
}

std::optional<p2p::Error> error_reply(Client& c, const p2p::Message& msg) { return ask<p2p::Error>(c, msg); }

// The IPv4 loopback address as the index reports it (v4-mapped).
p2p::IpBytes v4_loopback()
{
	p2p::IpBytes ip{};
	ip[10] = ip[11] = 0xff;
	ip[12] = 127;
	ip[15] = 1;
	return ip;
}

} // namespace

TEST_CASE("indexd: register, lookup, update, unregister", "[indexd][integration]")
{
	Indexd index;
	Client peer, client;
	index.connect(peer);
	index.connect(client);

	REQUIRE(acked(peer, p2p::Register{6001, {{"a.txt", 10, hash_of(1)}, {"dir/b.bin", 5ull << 32, hash_of(2)}}},
	              p2p::MsgType::Register));
	auto holders = lookup(client, "dir/b.bin");
	REQUIRE(holders.size() == 1);
	CHECK(holders[0].host == v4_loopback());
	CHECK(holders[0].port == 6001);
	CHECK(holders[0].size == 5ull << 32);
	CHECK(holders[0].hash == hash_of(2));
	CHECK(lookup(client, "nope").empty());

	REQUIRE(acked(peer, p2p::Update{{{"c.txt", 3, hash_of(3)}, {"a.txt", 11, hash_of(4)}}, {"dir/b.bin"}},
	              p2p::MsgType::Update));
	CHECK(lookup(client, "dir/b.bin").empty());
	REQUIRE(lookup(client, "c.txt").size() == 1);
	auto a = lookup(client, "a.txt");
	REQUIRE(a.size() == 1);
	CHECK(a[0].size == 11);
	CHECK(a[0].hash == hash_of(4));

	auto pong = ask<p2p::Pong>(peer, p2p::Ping{0xdeadbeef12345678ull});
	REQUIRE(pong);
	CHECK(pong->token == 0xdeadbeef12345678ull);

	auto s = stats(client);
	CHECK(s["peers"] == 1);
	CHECK(s["files"] == 2);
	CHECK(s["registers"] == 1);
	CHECK(s["updates"] == 1);
	CHECK(s["lookups"] == 5);
	CHECK(s["lookup_misses"] == 2);
	CHECK(s["pings"] == 1);

	REQUIRE(acked(peer, p2p::Unregister{}, p2p::MsgType::Unregister));
	CHECK(lookup(client, "a.txt").empty());
	CHECK(stats(client)["peers"] == 0);
	// An update after unregistering is refused, and the connection stays usable.
	auto e = error_reply(peer, p2p::Update{{{"x", 1, hash_of(1)}}, {}});
	REQUIRE(e);
	CHECK(e->code == ErrorCode::NotRegistered);
	CHECK(lookup(peer, "x").empty());
}

TEST_CASE("indexd: a peer disappears when its connection closes", "[indexd][integration]")
{
	Indexd index;
	Client client;
	index.connect(client);
	{
		Client peer;
		index.connect(peer);
		REQUIRE(acked(peer, p2p::Register{6002, {{"gone-soon", 1, hash_of(1)}}}, p2p::MsgType::Register));
		REQUIRE(lookup(client, "gone-soon").size() == 1);
	}
	CHECK(eventually([&] { return lookup(client, "gone-soon").empty(); }));
	CHECK(stats(client)["peers_closed"] == 1);
}

TEST_CASE("indexd: a silent peer expires after the TTL", "[indexd][integration]")
{
	Indexd index({}, "1");
	Client peer, chatty, client;
	index.connect(peer);
	index.connect(chatty);
	index.connect(client);
	REQUIRE(acked(peer, p2p::Register{6003, {{"silent", 1, hash_of(1)}}}, p2p::MsgType::Register));
	REQUIRE(acked(chatty, p2p::Register{6004, {{"chatty", 1, hash_of(1)}}}, p2p::MsgType::Register));
	// The chatty peer pings every 200 ms and stays; the silent one goes.
	bool silent_gone = false;
	for (int i = 0; i < 25 && !silent_gone; i++) {
		REQUIRE(ask<p2p::Pong>(chatty, p2p::Ping{static_cast<std::uint64_t>(i)}));
		std::this_thread::sleep_for(200ms);
		silent_gone = lookup(client, "silent").empty();
	}
	CHECK(silent_gone);
	CHECK(lookup(client, "chatty").size() == 1);
	// The expired peer is told why, then closed.
	auto e = peer.recv(3s);
	REQUIRE(e);
	REQUIRE(std::holds_alternative<p2p::Error>(*e));
	CHECK(std::get<p2p::Error>(*e).code == ErrorCode::Timeout);
	CHECK(peer.closed_by_peer());
	CHECK(stats(client)["expired"] == 1);
}

TEST_CASE("indexd: a live (host, port) cannot be taken over", "[indexd][integration]")
{
	Indexd index;
	Client owner, thief, client;
	index.connect(owner);
	index.connect(thief);
	index.connect(client);
	REQUIRE(acked(owner, p2p::Register{6005, {{"mine", 1, hash_of(1)}}}, p2p::MsgType::Register));
	auto e = error_reply(thief, p2p::Register{6005, {{"theirs", 1, hash_of(2)}}});
	REQUIRE(e);
	CHECK(e->code == ErrorCode::AddressInUse);
	CHECK(lookup(client, "theirs").empty());
	REQUIRE(lookup(client, "mine").size() == 1);
	CHECK(lookup(client, "mine")[0].hash == hash_of(1));
	CHECK(stats(client)["refused"] == 1);

	// Once the owner's connection is gone, the address is free.
	owner.close();
	CHECK(eventually([&] { return acked(thief, p2p::Register{6005, {{"theirs", 1, hash_of(2)}}}, p2p::MsgType::Register); }));
	CHECK(lookup(client, "theirs").size() == 1);
}

TEST_CASE("indexd: bad input closes only that connection", "[indexd][integration]")
{
	Indexd index;
	Client normal;
	index.connect(normal);
	REQUIRE(acked(normal, p2p::Register{6006, {{"still-here", 1, hash_of(1)}}}, p2p::MsgType::Register));

	SECTION("garbage")
	{
		Client bad;
		index.connect(bad);
		REQUIRE(bad.send_bytes("GET / HTTP/1.0\r\n\r\n", 18));
		auto e = bad.recv();
		REQUIRE(e);
		REQUIRE(std::holds_alternative<p2p::Error>(*e));
		CHECK(std::get<p2p::Error>(*e).code == ErrorCode::BadMagic);
		CHECK(bad.closed_by_peer());
	}
	SECTION("oversized frame")
	{
		Client bad;
		index.connect(bad);
		const unsigned char header[8] = {0x50, 0x32, 1, 0x04, 0x00, 0x20, 0x00, 0x00}; // 2 MiB lookup
		REQUIRE(bad.send_bytes(header, sizeof header));
		auto e = bad.recv();
		REQUIRE(e);
		REQUIRE(std::holds_alternative<p2p::Error>(*e));
		CHECK(std::get<p2p::Error>(*e).code == ErrorCode::TooLarge);
		CHECK(bad.closed_by_peer());
	}
	SECTION("malformed payload and a message not meant for the index")
	{
		Client bad, odd;
		index.connect(bad);
		index.connect(odd);
		const unsigned char frame[] = {0x50, 0x32, 1, 0x04, 0, 0, 0, 3, 0, 9, 'x'}; // name length 9, 1 byte
		REQUIRE(bad.send_bytes(frame, sizeof frame));
		CHECK(bad.closed_by_peer());
		REQUIRE(odd.send(p2p::Manifest{"f", 0, p2p::kChunkSize, hash_of(0), 0, 0, {}}));
		auto e = odd.recv();
		REQUIRE(e);
		REQUIRE(std::holds_alternative<p2p::Error>(*e));
		CHECK(std::get<p2p::Error>(*e).code == ErrorCode::UnknownType);
		CHECK(odd.closed_by_peer());
	}
	// Whatever happened to the others, the normal client is answered and
	// its registration stands.
	CHECK(lookup(normal, "still-here").size() == 1);
	CHECK(ask<p2p::Pong>(normal, p2p::Ping{1}));
	auto s = stats(normal);
	CHECK(s["peers"] == 1);
	CHECK(s["bad_frames"] >= 1);
}

TEST_CASE("indexd: a client that sends half a frame and stalls is closed", "[indexd][integration]")
{
	// -t 2: a frame must be finished within 2 s of its first byte.
	Indexd index({}, "2");
	Client normal, client, slow;
	index.connect(normal);
	index.connect(client);
	index.connect(slow);
	REQUIRE(acked(normal, p2p::Register{6010, {{"still-here", 1, hash_of(1)}}}, p2p::MsgType::Register));
	auto frame = p2p::encode(p2p::Lookup{"still-here"});
	REQUIRE(slow.send_bytes(frame.data(), frame.size() / 2));
	bool closed = false;
	for (int i = 0; i < 40 && !closed; i++) {
		// The registered peer keeps pinging and the client keeps asking.
		REQUIRE(ask<p2p::Pong>(normal, p2p::Ping{static_cast<std::uint64_t>(i)}));
		REQUIRE(lookup(client, "still-here").size() == 1);
		closed = slow.closed_by_peer(200ms);
	}
	CHECK(closed);
	auto s = stats(client);
	CHECK(s["timeouts"] == 1);
	CHECK(s["peers"] == 1);
	CHECK(s["bad_frames"] == 0);
}

TEST_CASE("indexd: a connection that never registers is closed after two TTLs idle", "[indexd][integration]")
{
	Indexd index({}, "1");
	Client idle;
	index.connect(idle);
	CHECK(lookup(idle, "x").empty());
	CHECK(idle.closed_by_peer(6s));
}

TEST_CASE("indexd: a client that does not read its replies is paused, then served in full",
          "[indexd][integration]")
{
	Indexd index;
	Client peer, greedy, probe;
	index.connect(peer);
	index.connect(greedy);
	index.connect(probe);
	const std::string name = "some/name/long/enough/to/make/replies/big";
	REQUIRE(acked(peer, p2p::Register{6011, {{name, 1, hash_of(1)}}}, p2p::MsgType::Register));
	auto one = p2p::encode(p2p::Lookup{name});
	std::vector<std::byte> batch;
	for (int i = 0; i < 1000; i++)
		batch.insert(batch.end(), one.begin(), one.end());
	REQUIRE(fcntl(greedy.fd(), F_SETFL, fcntl(greedy.fd(), F_GETFL) | O_NONBLOCK) == 0);

	// Pipeline lookups without reading a reply until indexd pauses us.
	std::size_t sent = 0, replies = 0, wrong = 0;
	std::vector<std::byte> in;
	auto deadline = std::chrono::steady_clock::now() + 20s;
	bool stalled = false;
	while (!stalled && std::chrono::steady_clock::now() < deadline && sent < (200u << 20)) {
		ssize_t n = ::send(greedy.fd(), batch.data() + sent % batch.size(), batch.size() - sent % batch.size(),
		                   MSG_NOSIGNAL);
		if (n > 0) {
			sent += static_cast<std::size_t>(n);
			continue;
		}
		REQUIRE(errno == EAGAIN);
		std::this_thread::sleep_for(20ms);
		stalled = stats(probe)["output_stalls"] >= 1;
	}
	REQUIRE(stalled);
	CHECK(lookup(probe, name).size() == 1); // everyone else is still served

	// Now read: every request sent gets its reply, in order.
	std::size_t frames = (sent + one.size() - 1) / one.size();
	std::size_t tail = frames * one.size() - sent; // bytes still to send of a cut frame
	while (replies < frames && std::chrono::steady_clock::now() < deadline + 20s) {
		pollfd pfd{greedy.fd(), static_cast<short>(POLLIN | (tail ? POLLOUT : 0)), 0};
		REQUIRE(::poll(&pfd, 1, 5000) > 0);
		if (tail && (pfd.revents & POLLOUT)) {
			ssize_t n = ::send(greedy.fd(), one.data() + one.size() - tail, tail, MSG_NOSIGNAL);
			if (n > 0)
				tail -= static_cast<std::size_t>(n);
		}
		if (pfd.revents & POLLIN) {
			std::byte buf[65536];
			ssize_t n = ::recv(greedy.fd(), buf, sizeof buf, 0);
			REQUIRE(n > 0);
			in.insert(in.end(), buf, buf + n);
			std::size_t pos = 0;
			while (in.size() - pos >= p2p::kHeaderSize) {
				auto at = [&](std::size_t i) { return std::to_integer<std::size_t>(in[pos + i]); };
				std::size_t len = at(4) << 24 | at(5) << 16 | at(6) << 8 | at(7);
				if (in.size() - pos < p2p::kHeaderSize + len)
					break;
				if (at(3) != static_cast<std::size_t>(p2p::MsgType::LookupReply))
					wrong++;
				pos += p2p::kHeaderSize + len;
				replies++;
			}
			in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(pos));
		}
	}
	CHECK(replies == frames);
	CHECK(wrong == 0);
	CHECK(stats(probe)["lookups"] == frames + 1);
}

TEST_CASE("indexd: bad frame counters", "[indexd][integration]")
{
	Indexd index;
	for (int i = 0; i < 3; i++) {
		Client bad;
		index.connect(bad);
		REQUIRE(bad.send_bytes("\x00\x01\x02\x03\x04\x05\x06\x07", 8));
		CHECK(bad.closed_by_peer());
	}
	Client c;
	index.connect(c);
	CHECK(stats(c)["bad_frames"] == 3);
}

TEST_CASE("indexd: IPv6 and IPv4 clients share one index", "[indexd][integration]")
{
	Indexd index;
	Client peer6, client4;
	REQUIRE(peer6.connect(index.port, true));
	index.connect(client4);
	REQUIRE(acked(peer6, p2p::Register{6007, {{"six", 6, hash_of(6)}}}, p2p::MsgType::Register));
	auto h = lookup(client4, "six");
	REQUIRE(h.size() == 1);
	p2p::IpBytes v6_loopback{};
	v6_loopback[15] = 1;
	CHECK(h[0].host == v6_loopback);
	CHECK(h[0].port == 6007);
	CHECK(lookup(peer6, "six").size() == 1);

	// The same port from another host (::1 vs 127.0.0.1) is another peer.
	REQUIRE(acked(client4, p2p::Register{6007, {{"six", 6, hash_of(6)}}}, p2p::MsgType::Register));
	CHECK(lookup(peer6, "six").size() == 2);
}

TEST_CASE("indexd: -l ::1 listens on IPv6 loopback only", "[indexd][integration]")
{
	Client probe;
	std::uint16_t port = free_port();
	Process p({bin("indexd"), "-p", std::to_string(port), "-l", "::1"});
	REQUIRE(wait_for_port(port, 5s, true));
	CHECK_FALSE(probe.connect(port, false));
	REQUIRE(probe.connect(port, true));
	CHECK(lookup(probe, "x").empty());
}

TEST_CASE("indexd: list pages over more than one page", "[indexd][integration]")
{
	Indexd index;
	Client peer, client;
	index.connect(peer);
	index.connect(client);
	constexpr int kFiles = 5000; // more than one page of 4096
	p2p::Register reg{6008, {}};
	p2p::Update upd;
	for (int i = 0; i < kFiles; i++) {
		char name[32];
		std::snprintf(name, sizeof name, "d/f%05d", i);
		(i < 2000 ? reg.files : upd.added).push_back({name, static_cast<std::uint64_t>(i), hash_of(7)});
	}
	REQUIRE(acked(peer, reg, p2p::MsgType::Register));
	REQUIRE(acked(peer, upd, p2p::MsgType::Update));

	std::vector<std::string> names;
	std::string after;
	int pages = 0;
	while (pages < 10) {
		auto page = ask<p2p::ListReply>(client, p2p::List{after, p2p::kMaxListPage});
		REQUIRE(page);
		pages++;
		for (auto& e : page->entries) {
			CHECK(e.peers == 1);
			names.push_back(e.name);
		}
		if (!page->more)
			break;
		REQUIRE_FALSE(page->entries.empty());
		after = names.back();
	}
	CHECK(pages == 2);
	REQUIRE(names.size() == kFiles);
	CHECK(names.front() == "d/f00000");
	CHECK(names.back() == "d/f04999");
	CHECK(std::is_sorted(names.begin(), names.end()));
	CHECK(stats(client)["lists"] == 2);
}

TEST_CASE("indexd: SIGTERM and SIGINT exit 0 promptly", "[indexd][integration]")
{
	for (int sig : {SIGTERM, SIGINT}) {
		Indexd index;
		Client peer;
		index.connect(peer);
		REQUIRE(acked(peer, p2p::Register{6009, {{"f", 1, hash_of(1)}}}, p2p::MsgType::Register));
		index.proc.signal(sig);
		auto status = index.proc.wait(5s);
		REQUIRE(status);
		CHECK(*status == 0);
		// The peer was told why before the connection went.
		auto bye = peer.recv(2s);
		REQUIRE(bye);
		REQUIRE(std::holds_alternative<p2p::Error>(*bye));
		CHECK(std::get<p2p::Error>(*bye).code == ErrorCode::Shutdown);
		CHECK(peer.closed_by_peer());
	}
}

TEST_CASE("indexd: command line", "[indexd][integration]")
{
	auto help = run({bin("indexd"), "-h"});
	CHECK(help.status == 0);
	CHECK(help.out.find("usage: indexd") != std::string::npos);
	auto version = run({bin("indexd"), "-V"});
	CHECK(version.status == 0);
	CHECK(version.out.find("indexd") == 0);
	auto bad = run({bin("indexd"), "-p", "0"});
	CHECK(bad.status == 2);
	CHECK(bad.err.find("indexd: ") == 0);
	// A port already taken: exit 1 with a message.
	Indexd index;
	auto taken = run({bin("indexd"), "-p", std::to_string(index.port), "-l", "127.0.0.1"});
	CHECK(taken.status == 1);
	CHECK(taken.err.find("indexd: cannot listen") == 0);
}
