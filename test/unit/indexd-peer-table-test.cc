#include "../../src/indexd/peer-table.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

using namespace indexd;
using p2p::ErrorCode;
using p2p::FileEntry;

namespace {

p2p::Hash hash_of(std::uint8_t seed)
{
	p2p::Hash h{};
	h.fill(seed);
	return h;
}

PeerKey key(std::uint8_t last, std::uint16_t port)
{
	PeerKey k;
	k.host[10] = k.host[11] = 0xff;
	k.host[12] = 127;
	k.host[15] = last;
	k.port = port;
	return k;
}

std::vector<p2p::PeerHolding> lookup(const PeerTable& t, std::string_view name)
{
	std::vector<p2p::PeerHolding> out;
	t.lookup(name, out, p2p::kMaxLookupPeers);
	return out;
}

constexpr std::size_t kPage = p2p::kMaxPayload;

} // namespace

TEST_CASE("register then lookup finds every holder", "[indexd][peer-table]")
{
	PeerTable t;
	auto a = t.add(key(1, 6001), std::vector<FileEntry>{{"a.txt", 10, hash_of(1)}, {"dir/b", 20, hash_of(2)}}, 0);
	auto b = t.add(key(2, 6002), std::vector<FileEntry>{{"a.txt", 10, hash_of(1)}}, 0);
	REQUIRE(a.error == ErrorCode::None);
	REQUIRE(b.error == ErrorCode::None);
	CHECK(a.id != b.id);

	auto holders = lookup(t, "a.txt");
	REQUIRE(holders.size() == 2);
	CHECK(holders[0].size == 10);
	CHECK(holders[0].hash == hash_of(1));
	CHECK(((holders[0].port == 6001 && holders[1].port == 6002) ||
	       (holders[0].port == 6002 && holders[1].port == 6001)));
	auto one = lookup(t, "dir/b");
	REQUIRE(one.size() == 1);
	CHECK(one[0].host == key(1, 0).host);
	CHECK(one[0].port == 6001);
	CHECK(lookup(t, "missing").empty());

	auto s = t.stats();
	CHECK(s.peers == 2);
	CHECK(s.registrations == 3);
	CHECK(s.names == 2);

	std::vector<p2p::PeerHolding> capped;
	t.lookup("a.txt", capped, 1);
	CHECK(capped.size() == 1);
}

TEST_CASE("partial holders are listed only when asked for, with their chunk count", "[indexd][peer-table]")
{
	PeerTable t;
	auto seed = t.add(key(1, 6001), std::vector<FileEntry>{{"f", 10, hash_of(1)}}, 0);
	auto leech = t.add(key(2, 41000), std::vector<FileEntry>{}, 0);
	REQUIRE(leech.error == ErrorCode::None);
	std::vector<p2p::PartialEntry> part{{{"f", 10, hash_of(1)}, 3}, {{"only-partial", 5, hash_of(2)}, 1}};
	REQUIRE(t.update_partial(leech.id, part, 1) == ErrorCode::None);
	CHECK(t.update_partial(12345, part, 1) == ErrorCode::NotRegistered);

	CHECK(lookup(t, "f").size() == 1); // plain LOOKUP: complete holders only
	CHECK(lookup(t, "only-partial").empty());
	std::vector<p2p::PeerHolding> all;
	t.lookup("f", all, p2p::kMaxLookupPeers, true);
	REQUIRE(all.size() == 2);
	auto partial = std::find_if(all.begin(), all.end(), [](auto& h) { return !h.complete(); });
	REQUIRE(partial != all.end());
	CHECK(partial->port == 41000);
	CHECK(partial->chunks == 3);

	// LIST counts complete holders and leaves out names only partly held.
	auto page = t.list("", 100, kPage);
	REQUIRE(page.entries.size() == 1);
	CHECK(page.entries[0].name == "f");
	CHECK(page.entries[0].peers == 1);

	// Finishing makes it a complete holder; removing drops it.
	std::vector<FileEntry> done{{"f", 10, hash_of(1)}};
	REQUIRE(t.update(leech.id, done, {}, 2) == ErrorCode::None);
	CHECK(lookup(t, "f").size() == 2);
	std::vector<std::string> gone{"f", "only-partial"};
	REQUIRE(t.update(leech.id, {}, gone, 3) == ErrorCode::None);
	CHECK(lookup(t, "f").size() == 1);
	t.lookup("only-partial", all, p2p::kMaxLookupPeers, true);
	CHECK(all.empty());
	CHECK(t.stats().registrations == 1);
	(void)seed;
}

TEST_CASE("update adds, replaces and removes files", "[indexd][peer-table]")
{
	PeerTable t;
	auto r = t.add(key(1, 1), std::vector<FileEntry>{{"x", 1, hash_of(1)}, {"y", 2, hash_of(2)}, {"z", 3, hash_of(3)}}, 0);
	REQUIRE(r.error == ErrorCode::None);
	std::vector<std::string> removed{"x", "not-held"};
	CHECK(t.update(r.id, std::vector<FileEntry>{{"y", 22, hash_of(9)}, {"w", 4, hash_of(4)}}, removed, 1) ==
	      ErrorCode::None);
	CHECK(lookup(t, "x").empty());
	REQUIRE(lookup(t, "y").size() == 1);
	CHECK(lookup(t, "y")[0].size == 22);
	CHECK(lookup(t, "y")[0].hash == hash_of(9));
	CHECK(lookup(t, "w").size() == 1);
	CHECK(lookup(t, "z").size() == 1);
	CHECK(t.file_count(r.id) == 3);
	CHECK(t.stats().registrations == 3);
	CHECK(t.stats().names == 3);

	// Removing every file, in an order that moves slots around, stays consistent.
	std::vector<std::string> all{"z", "w", "y"};
	CHECK(t.update(r.id, {}, all, 2) == ErrorCode::None);
	CHECK(t.file_count(r.id) == 0);
	CHECK(t.stats().names == 0);
	CHECK(t.update(12345, {}, {}, 3) == ErrorCode::NotRegistered);
}

TEST_CASE("a live (host, port) cannot be taken over", "[indexd][peer-table]")
{
	PeerTable t;
	auto first = t.add(key(1, 7000), std::vector<FileEntry>{{"f", 1, hash_of(1)}}, 0);
	REQUIRE(first.error == ErrorCode::None);
	auto again = t.add(key(1, 7000), std::vector<FileEntry>{{"g", 1, hash_of(2)}}, 0);
	CHECK(again.error == ErrorCode::AddressInUse);
	CHECK(lookup(t, "g").empty());
	CHECK(lookup(t, "f").size() == 1);
	// Another port on the same host, or the same port on another host, is a different peer.
	CHECK(t.add(key(1, 7001), {}, 0).error == ErrorCode::None);
	CHECK(t.add(key(2, 7000), {}, 0).error == ErrorCode::None);
	// Once the holder is gone the address is free again.
	CHECK(t.remove(first.id));
	CHECK(t.add(key(1, 7000), {}, 0).error == ErrorCode::None);
}

TEST_CASE("remove (unregister or closed connection) forgets the peer", "[indexd][peer-table]")
{
	PeerTable t;
	auto a = t.add(key(1, 1), std::vector<FileEntry>{{"shared", 5, hash_of(1)}, {"only-a", 5, hash_of(1)}}, 0);
	auto b = t.add(key(2, 1), std::vector<FileEntry>{{"shared", 5, hash_of(1)}}, 0);
	CHECK(t.remove(a.id));
	CHECK_FALSE(t.remove(a.id));
	CHECK_FALSE(t.live(a.id));
	CHECK(lookup(t, "only-a").empty());
	auto s = lookup(t, "shared");
	REQUIRE(s.size() == 1);
	CHECK(s[0].host == key(2, 1).host);
	CHECK(t.stats().peers == 1);
	CHECK(t.stats().registrations == 1);
	CHECK(t.stats().names == 1);
	CHECK(t.update(a.id, std::vector<FileEntry>{{"x", 1, hash_of(1)}}, {}, 1) == ErrorCode::NotRegistered);
	(void)b;
}

TEST_CASE("expire drops peers not heard from", "[indexd][peer-table]")
{
	PeerTable t;
	auto quiet = t.add(key(1, 1), std::vector<FileEntry>{{"q", 1, hash_of(1)}}, 0);
	auto chatty = t.add(key(2, 1), std::vector<FileEntry>{{"c", 1, hash_of(1)}}, 0);
	t.touch(chatty.id, 20);
	t.update(quiet.id, {}, {}, 5); // an update counts as being heard
	CHECK(t.expire(4).empty());
	auto gone = t.expire(10);
	REQUIRE(gone.size() == 1);
	CHECK(gone[0] == quiet.id);
	CHECK(lookup(t, "q").empty());
	CHECK(lookup(t, "c").size() == 1);
	CHECK(t.stats().peers == 1);
}

TEST_CASE("list pages through names in byte order, one entry per version", "[indexd][peer-table]")
{
	PeerTable t;
	std::vector<FileEntry> files;
	for (int i = 0; i < 250; i++) {
		char name[16];
		std::snprintf(name, sizeof name, "f%03d", i);
		files.push_back({name, static_cast<std::uint64_t>(i), hash_of(1)});
	}
	t.add(key(1, 1), files, 0);
	t.add(key(2, 1), std::vector<FileEntry>{{"f000", 0, hash_of(1)}, {"f001", 1, hash_of(2)}}, 0);

	auto first = t.list("", 2, kPage);
	CHECK(first.more);
	REQUIRE(first.entries.size() == 3); // f000 (2 peers), f001 in two versions
	CHECK(first.entries[0].name == "f000");
	CHECK(first.entries[0].peers == 2);
	CHECK(first.entries[1].name == "f001");
	CHECK(first.entries[2].name == "f001");

	std::vector<std::string> seen;
	std::string after;
	int pages = 0;
	while (true) {
		auto page = t.list(after, 100, kPage);
		pages++;
		for (auto& e : page.entries)
			if (seen.empty() || seen.back() != e.name)
				seen.push_back(e.name);
		if (!page.more)
			break;
		after = seen.back();
	}
	CHECK(pages == 3);
	REQUIRE(seen.size() == 250);
	CHECK(std::is_sorted(seen.begin(), seen.end()));
	CHECK(t.list("f249", 100, kPage).entries.empty());
	CHECK_FALSE(t.list("f249", 100, kPage).more);

	// The byte limit ends a page early, never in the middle of a name.
	auto small = t.list("", 4096, 5 + 3 * (2 + 4 + 8 + 32 + 4));
	CHECK(small.more);
	CHECK(small.entries.size() == 3);
}

TEST_CASE("registering past the per-peer limit keeps nothing", "[indexd][peer-table]")
{
	PeerTable t(2);
	auto r = t.add(key(1, 1), std::vector<FileEntry>{{"a", 1, hash_of(1)}, {"b", 1, hash_of(1)}, {"c", 1, hash_of(1)}}, 0);
	CHECK(r.error == ErrorCode::Busy);
	CHECK(t.stats().peers == 0);
	CHECK(t.stats().names == 0);
	auto ok = t.add(key(1, 1), std::vector<FileEntry>{{"a", 1, hash_of(1)}}, 0);
	REQUIRE(ok.error == ErrorCode::None);
	CHECK(t.update(ok.id, std::vector<FileEntry>{{"a", 2, hash_of(1)}, {"b", 1, hash_of(1)}, {"c", 1, hash_of(1)}}, {},
	               0) == ErrorCode::Busy);
	CHECK(t.file_count(ok.id) == 2);
}

TEST_CASE("random operations agree with a naive model", "[indexd][peer-table]")
{
	// Model: live peers by id, each with name -> (size, hash seed).
	struct ModelPeer {
		PeerKey key;
		std::map<std::string, std::pair<std::uint64_t, std::uint8_t>> files;
		double heard;
	};
	std::map<PeerId, ModelPeer> model;
	PeerTable t;
	std::mt19937 rng(12345);
	auto pick_name = [&] { return "n" + std::to_string(rng() % 40); };
	auto random_files = [&](int max) {
		std::vector<FileEntry> files;
		int n = static_cast<int>(rng() % static_cast<unsigned>(max + 1));
		for (int i = 0; i < n; i++) {
			auto seed = static_cast<std::uint8_t>(rng() % 3);
			files.push_back({pick_name(), seed * 100u, hash_of(seed)});
		}
		return files;
	};
	double now = 0;
	for (int step = 0; step < 3000; step++) {
		now += 1;
		unsigned op = rng() % 10;
		if (op < 3) {
			PeerKey k = key(static_cast<std::uint8_t>(rng() % 4), static_cast<std::uint16_t>(1 + rng() % 4));
			auto files = random_files(12);
			auto r = t.add(k, files, now);
			bool taken = std::any_of(model.begin(), model.end(), [&](auto& m) { return m.second.key == k; });
			REQUIRE((r.error == ErrorCode::AddressInUse) == taken);
			if (!taken) {
				REQUIRE(r.error == ErrorCode::None);
				REQUIRE_FALSE(model.contains(r.id));
				ModelPeer& m = model[r.id];
				m.key = k;
				m.heard = now;
				for (auto& f : files)
					m.files[f.name] = {f.size, f.hash[0]};
			}
		} else if (op < 7 && !model.empty()) {
			auto it = std::next(model.begin(), static_cast<long>(rng() % model.size()));
			auto added = random_files(6);
			std::vector<std::string> removed;
			for (unsigned i = rng() % 6; i > 0; i--)
				removed.push_back(pick_name());
			REQUIRE(t.update(it->first, added, removed, now) == ErrorCode::None);
			for (auto& f : added)
				it->second.files[f.name] = {f.size, f.hash[0]};
			for (auto& n : removed)
				it->second.files.erase(n);
			it->second.heard = now;
		} else if (op < 8 && !model.empty()) {
			auto it = std::next(model.begin(), static_cast<long>(rng() % model.size()));
			REQUIRE(t.remove(it->first));
			model.erase(it);
		} else if (op < 9 && !model.empty()) {
			auto it = std::next(model.begin(), static_cast<long>(rng() % model.size()));
			t.touch(it->first, now);
			it->second.heard = now;
		} else {
			double cutoff = now - 15;
			auto gone = t.expire(cutoff);
			std::vector<PeerId> expect;
			for (auto it = model.begin(); it != model.end();) {
				if (it->second.heard < cutoff) {
					expect.push_back(it->first);
					it = model.erase(it);
				} else {
					++it;
				}
			}
			std::sort(gone.begin(), gone.end());
			REQUIRE(gone == expect);
		}

		// Every name's holders, and the totals, match the model.
		std::size_t regs = 0;
		std::set<std::string> names;
		for (auto& [id, m] : model) {
			regs += m.files.size();
			for (auto& [n, v] : m.files)
				names.insert(n);
		}
		auto s = t.stats();
		REQUIRE(s.peers == model.size());
		REQUIRE(s.registrations == regs);
		REQUIRE(s.names == names.size());
		for (int i = 0; i < 40; i++) {
			std::string n = "n" + std::to_string(i);
			std::multiset<std::tuple<std::uint16_t, std::uint8_t, std::uint64_t, std::uint8_t>> want, got;
			for (auto& [id, m] : model)
				if (auto f = m.files.find(n); f != m.files.end())
					want.insert({m.key.port, m.key.host[15], f->second.first, f->second.second});
			for (auto& h : lookup(t, n))
				got.insert({h.port, h.host[15], h.size, h.hash[0]});
			REQUIRE(got == want);
		}
		// A full listing names each name once (versions grouped), in order.
		auto page = t.list("", 4096, kPage);
		REQUIRE_FALSE(page.more);
		std::set<std::string> listed;
		std::uint64_t holders = 0;
		for (auto& e : page.entries) {
			listed.insert(e.name);
			holders += e.peers;
		}
		REQUIRE(listed == names);
		REQUIRE(holders == regs);
	}
}

TEST_CASE("find names the live peer of a (host, port)", "[indexd][peer-table]")
{
	PeerTable t;
	PeerId id = 99;
	CHECK_FALSE(t.find(key(1, 7000), id));
	AddResult a = t.add(key(1, 7000), std::vector<FileEntry>{{"f", 1, hash_of(1)}}, 1.0);
	REQUIRE(a.error == ErrorCode::None);
	REQUIRE(t.find(key(1, 7000), id));
	CHECK(id == a.id);
	CHECK_FALSE(t.find(key(1, 7001), id));
	CHECK_FALSE(t.find(key(2, 7000), id));
	t.remove(a.id);
	CHECK_FALSE(t.find(key(1, 7000), id));
}

TEST_CASE("a prefetch of a batch of names changes no answer", "[indexd][peer-table]")
{
	PeerTable t;
	std::vector<FileEntry> files;
	for (int i = 0; i < 40; i++)
		files.push_back({"f" + std::to_string(i), 10u + i, hash_of(i)});
	REQUIRE(t.add(key(1, 6001), files, 0).error == ErrorCode::None);
	std::vector<std::string> asked;
	for (int i = 0; i < 50; i++) // 40 held, 10 not; more than one batch
		asked.push_back("f" + std::to_string(i));
	std::vector<std::string_view> views(asked.begin(), asked.end());
	PeerTable empty;
	empty.prefetch(views);
	t.prefetch(views);
	t.prefetch({});
	for (int i = 0; i < 50; i++) {
		auto holders = lookup(t, asked[i]);
		REQUIRE(holders.size() == (i < 40 ? 1u : 0u));
		if (i < 40)
			CHECK(holders[0].size == 10u + i);
	}
}
