// indexd and peer identity: signed registrations bound to an Ed25519 key,
// the same key replacing its own live session, and every forgery refused
// (another key, an unsigned takeover, a replayed or forged signature).
#include "indexd-harness.h"

using namespace indexd_test;
using namespace std::chrono_literals;
using p2p::ErrorCode;

TEST_CASE("indexd identity: a signed registration works and lookups show it", "[indexd][integration][identity]")
{
	TempDir dir;
	auto key = make_identity(dir, "peer.key");
	Indexd index;
	Client peer, client;
	index.connect(peer);
	index.connect(client);

	p2p::Register reg{7001, {{"signed.txt", 42, hash_of(1)}}};
	REQUIRE(is_ok(signed_register(peer, key, reg)));
	auto h = lookup(client, "signed.txt");
	REQUIRE(h.size() == 1);
	CHECK(h[0].port == 7001);
	CHECK(h[0].size == 42);
	// The signed session goes on as any other: updates, pings.
	CHECK(ask<p2p::Ok>(peer, p2p::Update{{{"more.txt", 1, hash_of(2)}}, {}}));
	CHECK(ask<p2p::Pong>(peer, p2p::Ping{7}));
	auto s = stats(client);
	CHECK(s["registers"] == 1);
	CHECK(s["signed_registers"] == 1);
	CHECK(s["bad_signatures"] == 0);
}

TEST_CASE("indexd identity: the same key replaces its own live session at once", "[indexd][integration][identity]")
{
	TempDir dir;
	auto key = make_identity(dir, "peer.key");
	Indexd index;
	Client old_conn, new_conn, client;
	index.connect(old_conn);
	index.connect(new_conn);
	index.connect(client);

	REQUIRE(is_ok(signed_register(old_conn, key, {7002, {{"before-crash", 1, hash_of(1)}}})));
	// The restarted peer (same key, same host and port) is let in now,
	// not after the TTL.
	REQUIRE(is_ok(signed_register(new_conn, key, {7002, {{"after-restart", 1, hash_of(2)}}})));
	CHECK(lookup(client, "before-crash").empty());
	REQUIRE(lookup(client, "after-restart").size() == 1);
	// The old connection is told and closed.
	CHECK(next_error(old_conn) == ErrorCode::AddressInUse);
	CHECK(old_conn.closed_by_peer());
	// Its closing does not take the new owner's entry with it.
	std::this_thread::sleep_for(200ms);
	CHECK(lookup(client, "after-restart").size() == 1);
	auto s = stats(client);
	CHECK(s["takeovers"] == 1);
	CHECK(s["peers"] == 1);
	CHECK(s["refused"] == 0);
	// The new owner is a full owner: it can be replaced in turn by the same key.
	Client third;
	index.connect(third);
	REQUIRE(is_ok(signed_register(third, key, {7002, {{"third", 1, hash_of(3)}}})));
	CHECK(next_error(new_conn) == ErrorCode::AddressInUse);
	CHECK(stats(client)["takeovers"] == 2);
}

TEST_CASE("indexd identity: another key, or no key, cannot take a live (host, port)", "[indexd][integration][identity]")
{
	TempDir dir;
	auto owner_key = make_identity(dir, "owner.key");
	auto thief_key = make_identity(dir, "thief.key");
	Indexd index;
	Client owner, thief, client;
	index.connect(owner);
	index.connect(thief);
	index.connect(client);
	REQUIRE(is_ok(signed_register(owner, owner_key, {7003, {{"mine", 1, hash_of(1)}}})));

	SECTION("another key")
	{
		CHECK(error_of(signed_register(thief, thief_key, {7003, {{"theirs", 1, hash_of(2)}}})) ==
		      ErrorCode::AddressInUse);
	}
	SECTION("an unsigned REGISTER")
	{
		auto e = ask<p2p::Error>(thief, p2p::Register{7003, {{"theirs", 1, hash_of(2)}}});
		REQUIRE(e);
		CHECK(e->code == ErrorCode::AddressInUse);
	}
	CHECK(lookup(client, "theirs").empty());
	CHECK(lookup(client, "mine").size() == 1);
	// The owner was not disturbed.
	CHECK(ask<p2p::Pong>(owner, p2p::Ping{1}));
	auto s = stats(client);
	CHECK(s["refused"] == 1);
	CHECK(s["takeovers"] == 0);
}

TEST_CASE("indexd identity: a signed REGISTER cannot take over an unsigned one", "[indexd][integration][identity]")
{
	TempDir dir;
	auto key = make_identity(dir, "peer.key");
	Indexd index;
	Client owner, other, client;
	index.connect(owner);
	index.connect(other);
	index.connect(client);
	REQUIRE(ask<p2p::Ok>(owner, p2p::Register{7004, {{"unsigned", 1, hash_of(1)}}}));
	CHECK(error_of(signed_register(other, key, {7004, {{"signed", 1, hash_of(2)}}})) == ErrorCode::AddressInUse);
	CHECK(lookup(client, "unsigned").size() == 1);
	CHECK(stats(client)["refused"] == 1);
}

TEST_CASE("indexd identity: a replayed signature is refused", "[indexd][integration][identity]")
{
	TempDir dir;
	auto key = make_identity(dir, "peer.key");
	Indexd index;
	Client victim, attacker, client;
	index.connect(victim);
	index.connect(attacker);
	index.connect(client);

	// The victim's IDENTIFY and REGISTER, as captured off the wire.
	p2p::Register reg{7005, {{"victim", 1, hash_of(1)}}};
	p2p::Identify captured = identify(key, challenge(victim), reg);
	REQUIRE(victim.send(captured));
	REQUIRE(victim.send(reg));
	REQUIRE(is_ok(victim.recv()));
	REQUIRE(lookup(client, "victim").size() == 1);

	// Replayed on another connection after a new HELLO: the nonce differs.
	SECTION("after a new HELLO")
	{
		challenge(attacker);
		REQUIRE(attacker.send(captured));
		REQUIRE(attacker.send(reg));
		CHECK(next_error(attacker) == ErrorCode::BadSignature);
	}
	SECTION("without a HELLO")
	{
		REQUIRE(attacker.send(captured));
		REQUIRE(attacker.send(reg));
		CHECK(next_error(attacker) == ErrorCode::BadSignature);
	}
	SECTION("on the same connection again: the nonce is good once")
	{
		REQUIRE(victim.send(captured));
		REQUIRE(victim.send(reg));
		CHECK(next_error(victim) == ErrorCode::BadSignature);
		CHECK(victim.closed_by_peer());
		CHECK(stats(client)["bad_signatures"] == 1);
		return;
	}
	CHECK(attacker.closed_by_peer());
	// The victim still owns its entry, and its session is alive.
	CHECK(lookup(client, "victim").size() == 1);
	CHECK(ask<p2p::Pong>(victim, p2p::Ping{2}));
	auto s = stats(client);
	CHECK(s["bad_signatures"] == 1);
	CHECK(s["takeovers"] == 0);
}

TEST_CASE("indexd identity: forged signatures and out-of-order IDENTIFY are refused", "[indexd][integration][identity]")
{
	TempDir dir;
	auto key = make_identity(dir, "peer.key");
	Indexd index;
	Client c, client;
	index.connect(c);
	index.connect(client);
	p2p::Register reg{7006, {{"forged", 1, hash_of(1)}}};

	SECTION("random signature bytes")
	{
		challenge(c);
		p2p::Identify forged{key.public_key(), {}};
		for (std::size_t i = 0; i < forged.signature.size(); i++)
			forged.signature[i] = static_cast<std::uint8_t>(i * 37 + 11);
		REQUIRE(c.send(forged));
		REQUIRE(c.send(reg));
		CHECK(next_error(c) == ErrorCode::BadSignature);
	}
	SECTION("signed by another key than the one announced")
	{
		auto other = make_identity(dir, "other.key");
		p2p::Nonce nonce = challenge(c);
		REQUIRE(c.send(p2p::Identify{key.public_key(), other.sign_registration(nonce, reg)}));
		REQUIRE(c.send(reg));
		CHECK(next_error(c) == ErrorCode::BadSignature);
	}
	SECTION("the signature covers the port and the file list")
	{
		p2p::Nonce nonce = challenge(c);
		REQUIRE(c.send(identify(key, nonce, reg)));
		REQUIRE(c.send(p2p::Register{7007, reg.files}));
		CHECK(next_error(c) == ErrorCode::BadSignature);
	}
	SECTION("IDENTIFY without HELLO")
	{
		REQUIRE(c.send(identify(key, p2p::Nonce{}, reg)));
		CHECK(next_error(c) == ErrorCode::BadSignature);
	}
	SECTION("IDENTIFY not followed by REGISTER")
	{
		p2p::Nonce nonce = challenge(c);
		REQUIRE(c.send(identify(key, nonce, reg)));
		REQUIRE(c.send(p2p::Lookup{"forged"}));
		CHECK(next_error(c) == ErrorCode::BadSignature);
	}
	CHECK(c.closed_by_peer());
	CHECK(lookup(client, "forged").empty());
	auto s = stats(client);
	CHECK(s["bad_signatures"] == 1);
	CHECK(s["registers"] == 0);
}
