// indexd as a closed cluster (--secret-file): with the secret everything
// works as before, every frame MAC'd both ways; without it, or with a wrong
// one, the connection gets BadAuth and is closed; refusals are counted and
// logged.
#include "indexd-harness.h"

#include "p2p/frame-step.h"

#include <csignal>
#include <thread>

using namespace indexd_test;
using namespace std::chrono_literals;
using p2p::ErrorCode;

TEST_CASE("indexd cluster: with the secret, everything works", "[indexd][integration][cluster]")
{
	TempDir dir;
	p2p::SecretKey secret = test_secret(1);
	Indexd index({"--secret-file", write_secret(dir, secret)});
	Client peer, client;
	index.connect(peer, &secret);
	index.connect(client, &secret);

	REQUIRE(ask<p2p::Ok>(peer, p2p::Register{7101, {{"a.txt", 10, hash_of(1)}, {"b.txt", 20, hash_of(2)}}}));
	REQUIRE(ask<p2p::Ok>(peer, p2p::Update{{{"c.txt", 30, hash_of(3)}}, {"b.txt"}}));
	auto h = lookup(client, "a.txt");
	REQUIRE(h.size() == 1);
	CHECK(h[0].port == 7101);
	CHECK(lookup(client, "b.txt").empty());
	auto list = ask<p2p::ListReply>(client, p2p::List{"", 100});
	REQUIRE(list);
	REQUIRE(list->entries.size() == 2);
	CHECK(list->entries[0].name == "a.txt");
	CHECK(list->entries[1].name == "c.txt");
	auto pong = ask<p2p::Pong>(peer, p2p::Ping{99});
	REQUIRE(pong);
	CHECK(pong->token == 99);
	// Pipelined frames, each with its own MAC and counter.
	for (int i = 0; i < 20; i++)
		REQUIRE(client.send(p2p::Lookup{"c.txt"}));
	for (int i = 0; i < 20; i++) {
		auto r = client.recv();
		REQUIRE(r);
		REQUIRE(std::holds_alternative<p2p::LookupReply>(*r));
	}
	// Peer identity works inside a closed cluster too.
	auto key = make_identity(dir, "peer.key");
	Client signed_peer;
	index.connect(signed_peer, &secret);
	REQUIRE(is_ok(signed_register(signed_peer, key, {7102, {{"d.txt", 1, hash_of(4)}}})));
	CHECK(lookup(client, "d.txt").size() == 1);
	auto s = stats(client);
	CHECK(s["bad_macs"] == 0);
	CHECK(s["signed_registers"] == 1);
	CHECK(s["lookups"] == 23);
	CHECK(s["lists"] == 1);
}

TEST_CASE("indexd cluster: clients without the secret are refused", "[indexd][integration][cluster]")
{
	TempDir dir;
	p2p::SecretKey secret = test_secret(1);
	Indexd index({"--secret-file", write_secret(dir, secret)});
	Client admin;
	index.connect(admin, &secret);
	std::uint64_t expected = 0;

	SECTION("plain frames, one request then waiting: refused within the grace")
	{
		Client plain;
		index.connect(plain);
		REQUIRE(plain.send(p2p::Register{7103, {{"sneaky", 1, hash_of(1)}}}));
		// The reply is an Error with a MAC after it, which a plain client
		// reads as the Error and some trailing bytes.
		CHECK(next_error(plain, 8s) == ErrorCode::BadAuth);
		CHECK(plain.closed_by_peer());
		expected = 1;
	}
	SECTION("plain frames, pipelined: refused at once")
	{
		Client plain;
		index.connect(plain);
		// Enough frames that the bytes after the first fill a MAC's place.
		for (int i = 0; i < 5; i++)
			REQUIRE(plain.send(p2p::Lookup{"x"}));
		CHECK(next_error(plain, 2s) == ErrorCode::BadAuth);
		CHECK(plain.closed_by_peer());
		expected = 1;
	}
	SECTION("a wrong secret")
	{
		Client wrong;
		index.connect(wrong, nullptr);
		// Sealed by hand so the Error can be read without checking its MAC.
		p2p::FrameAuth bad(test_secret(2), true);
		auto frame = p2p::encode(p2p::Message{p2p::Stats{}});
		p2p::Mac mac = bad.seal(frame);
		REQUIRE(wrong.send_bytes(frame.data(), frame.size()));
		REQUIRE(wrong.send_bytes(mac.data(), mac.size()));
		CHECK(next_error(wrong, 2s) == ErrorCode::BadAuth);
		CHECK(wrong.closed_by_peer());
		// A client that checks MACs with the wrong secret rejects what the
		// index says, too.
		Client wrong2;
		p2p::SecretKey other = test_secret(2);
		index.connect(wrong2, &other);
		REQUIRE(wrong2.send(p2p::Lookup{"x"}));
		CHECK_FALSE(wrong2.recv(2s));
		CHECK(wrong2.closed_by_peer());
		expected = 2;
	}
	SECTION("a right MAC on the wrong counter (a frame replayed within the connection)")
	{
		Client replay;
		index.connect(replay, nullptr);
		p2p::FrameAuth good(secret, true);
		auto frame = p2p::encode(p2p::Message{p2p::Lookup{"x"}});
		p2p::Mac mac = good.seal(frame);
		for (int i = 0; i < 2; i++) {
			REQUIRE(replay.send_bytes(frame.data(), frame.size()));
			REQUIRE(replay.send_bytes(mac.data(), mac.size()));
		}
		auto first = replay.recv(2s);
		REQUIRE(first);
		CHECK(std::holds_alternative<p2p::LookupReply>(*first));
		replay.recv_raw(p2p::kMacSize); // the reply's MAC
		CHECK(next_error(replay, 2s) == ErrorCode::BadAuth);
		CHECK(replay.closed_by_peer());
		expected = 1;
	}
	auto s = stats(admin);
	CHECK(s["bad_macs"] == expected);
	CHECK(s["registers"] == 0);
	CHECK(s["peers"] == 0);
	// The refusals are in the log line written at exit.
	index.proc.signal(SIGTERM);
	REQUIRE(index.proc.wait(5s));
	CHECK(index.proc.stderr_text().find("bad_macs=" + std::to_string(expected)) != std::string::npos);
}

TEST_CASE("indexd cluster: a whole frame without its MAC is refused at the 2 s grace, not at the TTL",
          "[indexd][integration][cluster]")
{
	TempDir dir;
	p2p::SecretKey secret = test_secret(1);
	Indexd index({"--secret-file", write_secret(dir, secret)}, "30");
	Client admin;
	index.connect(admin, &secret);
	SECTION("a client without the secret: ERROR 16, the step's words, closed")
	{
		Client plain;
		index.connect(plain);
		auto start = std::chrono::steady_clock::now();
		REQUIRE(plain.send(p2p::Lookup{"x"}));
		auto reply = plain.recv(40s);
		auto waited = std::chrono::steady_clock::now() - start;
		REQUIRE(reply);
		REQUIRE(std::holds_alternative<p2p::Error>(*reply));
		CHECK(std::get<p2p::Error>(*reply).code == ErrorCode::BadAuth);
		CHECK(std::get<p2p::Error>(*reply).text == p2p::refusal(p2p::FrameFault::MacMissing).why);
		CHECK(plain.closed_by_peer());
		CHECK(waited < 10s); // the grace (2 s), far from the TTL (30 s)
		auto s = stats(admin);
		CHECK(s["bad_macs"] == 1);
		CHECK(s["timeouts"] == 0);
	}
	SECTION("a MAC that follows its frame well within the grace is accepted")
	{
		Client late;
		index.connect(late);
		p2p::FrameAuth seal(secret, true);
		auto frame = p2p::encode(p2p::Message{p2p::Ping{77}});
		p2p::Mac mac = seal.seal(frame);
		REQUIRE(late.send_bytes(frame.data(), frame.size()));
		std::this_thread::sleep_for(500ms);
		REQUIRE(late.send_bytes(mac.data(), mac.size()));
		auto reply = late.recv(5s);
		REQUIRE(reply);
		REQUIRE(std::holds_alternative<p2p::Pong>(*reply));
		CHECK(std::get<p2p::Pong>(*reply).token == 77);
		CHECK(stats(admin)["bad_macs"] == 0);
	}
}

TEST_CASE("indexd cluster: a MAC'd client is refused by an index without a secret", "[indexd][integration][cluster]")
{
	// Without --secret-file nothing changes: MACs are just garbage there.
	Indexd index;
	Client sealed, client;
	p2p::SecretKey secret = test_secret(1);
	index.connect(sealed, &secret);
	index.connect(client);
	REQUIRE(sealed.send(p2p::Lookup{"x"}));
	REQUIRE(sealed.send(p2p::Lookup{"y"}));
	CHECK(sealed.closed_by_peer());
	auto s = stats(client);
	CHECK(s["bad_frames"] == 1);
	CHECK(s["bad_macs"] == 0);
}

TEST_CASE("indexd cluster: a bad secret file stops indexd with exit 1", "[indexd][integration][cluster]")
{
	TempDir dir;
	write_text(dir / "short", "not a key\n");
	auto bad = run({bin("indexd"), "-p", std::to_string(free_port()), "--secret-file", (dir / "short").string()});
	CHECK(bad.status == 1);
	CHECK(bad.err.find("indexd: ") == 0);
	auto missing = run({bin("indexd"), "-p", std::to_string(free_port()), "--secret-file", (dir / "none").string()});
	CHECK(missing.status == 1);
	CHECK(missing.err.find("indexd: ") == 0);
	auto no_arg = run({bin("indexd"), "--secret-file"});
	CHECK(no_arg.status == 2);
}
