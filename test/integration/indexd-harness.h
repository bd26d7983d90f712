// A real ./indexd on a free loopback port and the small helpers the indexd
// identity and closed-cluster tests share (signed registration included).
#pragma once

#include "fixtures.h"
#include "redis-server.h"

#include "p2p/identity.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace indexd_test {

using namespace fixtures;

inline p2p::Hash hash_of(std::uint8_t seed)
{
	p2p::Hash h{};
	h.fill(seed);
	return h;
}

// With P2P_TEST_STORE=redis each indexd gets its own redis-server, unless
// given one to share (`redis_url`).
struct Indexd {
	std::uint16_t port = free_port();
	std::unique_ptr<RedisServer> redis = test_store_is_redis() ? std::make_unique<RedisServer>() : nullptr;
	std::string store;
	Process proc;

	explicit Indexd(std::vector<std::string> extra = {}, const std::string& ttl = "30",
	                const std::string& redis_url = "")
		: store(redis_url.empty() && redis ? redis->url() : redis_url), proc(args(ttl, std::move(extra)))
	{
		bool listening = wait_for_port(port);
		INFO("indexd's stderr:\n" << proc.stderr_text());
		REQUIRE(listening);
		if (!store.empty())
			REQUIRE(wait_store());
	}

	// Until it says Redis is connected (requests are unavailable before).
	bool wait_store()
	{
		return eventually([&] { return proc.stderr_text().find("scripts loaded") != std::string::npos; });
	}

	std::vector<std::string> args(const std::string& ttl, std::vector<std::string> extra) const
	{
		std::vector<std::string> a{bin("indexd"), "-p", std::to_string(port), "-t", ttl, "-vv"};
		if (!store.empty()) {
			a.push_back("--store");
			a.push_back(store);
		}
		a.insert(a.end(), extra.begin(), extra.end());
		return a;
	}

	// Connects `c`, sealing with `secret` when given.
	void connect(Client& c, const p2p::SecretKey* secret = nullptr) const
	{
		REQUIRE(c.connect(port));
		if (secret)
			c.set_secret(*secret);
	}
};

inline std::map<std::string, std::uint64_t> stats(Client& c)
{
	auto r = ask<p2p::StatsReply>(c, p2p::Stats{});
	REQUIRE(r);
	std::map<std::string, std::uint64_t> m;
	for (auto& [k, v] : r->counters)
		m[k] = v;
	return m;
}

inline std::vector<p2p::PeerHolding> lookup(Client& c, const std::string& name)
{
	auto r = ask<p2p::LookupReply>(c, p2p::Lookup{name});
	REQUIRE(r);
	CHECK(r->name == name);
	return r->peers;
}

// The Error `c` gets next (nullopt: something else, or nothing).
inline std::optional<p2p::ErrorCode> next_error(Client& c, std::chrono::milliseconds timeout = std::chrono::seconds(5))
{
	auto m = c.recv(timeout);
	if (!m || !std::holds_alternative<p2p::Error>(*m))
		return std::nullopt;
	return std::get<p2p::Error>(*m).code;
}

inline p2p::Identity make_identity(const TempDir& dir, const std::string& name)
{
	std::string error;
	auto id = p2p::Identity::load_or_create((dir / name).string(), &error);
	INFO(error);
	REQUIRE(id);
	return std::move(*id);
}

// HELLO -> CHALLENGE; the nonce (REQUIREd).
inline p2p::Nonce challenge(Client& c)
{
	auto ch = ask<p2p::Challenge>(c, p2p::Hello{});
	REQUIRE(ch);
	return ch->nonce;
}

// The IDENTIFY that signs `reg` for `nonce` with `id`.
inline p2p::Identify identify(const p2p::Identity& id, const p2p::Nonce& nonce, const p2p::Register& reg)
{
	return p2p::Identify{id.public_key(), id.sign_registration(nonce, reg)};
}

// HELLO, CHALLENGE, IDENTIFY, REGISTER: the reply to the REGISTER.
inline std::optional<p2p::Message> signed_register(Client& c, const p2p::Identity& id, const p2p::Register& reg)
{
	p2p::Nonce nonce = challenge(c);
	if (!c.send(identify(id, nonce, reg)) || !c.send(reg))
		return std::nullopt;
	return c.recv();
}

inline bool is_ok(const std::optional<p2p::Message>& m)
{
	return m && std::holds_alternative<p2p::Ok>(*m) && std::get<p2p::Ok>(*m).of == p2p::MsgType::Register;
}

inline std::optional<p2p::ErrorCode> error_of(const std::optional<p2p::Message>& m)
{
	if (!m || !std::holds_alternative<p2p::Error>(*m))
		return std::nullopt;
	return std::get<p2p::Error>(*m).code;
}

inline p2p::SecretKey test_secret(std::uint8_t seed)
{
	p2p::SecretKey k{};
	for (std::size_t i = 0; i < k.size(); i++)
		k[i] = static_cast<std::uint8_t>(seed * 31 + i * 7);
	return k;
}

// The secret as 32 raw bytes in a file.
inline std::string write_secret(const TempDir& dir, const p2p::SecretKey& key)
{
	std::string path = (dir / "secret").string();
	std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(key.data()), key.size());
	return path;
}

} // namespace indexd_test
