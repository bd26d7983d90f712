// What a serving p2pget tells the index, with the clock passed in: a count
// when it starts serving a file, then at most every 2 s while it grows, an
// UPDATE adding the file once complete or removing it when dropped, and
// UPDATE_PARTIAL only behind the index's partial-holders feature.
#include "p2pget/serve-holdings.h"

#include <catch2/catch.hpp>

using p2pget::ServeHoldings;

namespace {

p2p::FileEntry entry(const std::string& name) { return {name, 100, p2p::Hash{1}}; }

std::vector<p2p::PartialEntry> partials(const std::vector<p2p::Message>& frames)
{
	std::vector<p2p::PartialEntry> out;
	for (auto& m : frames)
		if (auto* u = std::get_if<p2p::UpdatePartial>(&m))
			out.insert(out.end(), u->entries.begin(), u->entries.end());
	return out;
}

} // namespace

TEST_CASE("serve holdings: a count at once, then at most every 2 s while it grows", "[p2pget][serve]")
{
	double now = 10;
	ServeHoldings h([&] { return now; });
	CHECK_FALSE(h.has_changes());
	h.started(entry("a"), 3);
	REQUIRE(h.has_changes());
	auto first = h.take_updates();
	REQUIRE(first.size() == 1);
	CHECK(partials(first) == std::vector<p2p::PartialEntry>{{entry("a"), 3}});
	CHECK(h.features_needed(first[0]) == p2p::kFeaturePartialHolders);

	h.grew("a", 4);
	h.grew("a", 5);
	now = 11;
	CHECK_FALSE(h.has_changes()); // held back
	CHECK(h.next_due() == 12.0);
	now = 12;
	REQUIRE(h.has_changes());
	CHECK(partials(h.take_updates()) == std::vector<p2p::PartialEntry>{{entry("a"), 5}});
	now = 20;
	CHECK_FALSE(h.has_changes()); // not grown: nothing to say
	CHECK_FALSE(h.next_due());
}

TEST_CASE("serve holdings: complete adds, dropped removes, REGISTER carries everything", "[p2pget][serve]")
{
	double now = 0;
	ServeHoldings h([&] { return now; });
	p2p::Register reg;
	std::vector<p2p::Message> rest;
	h.full_pages(7000, reg, rest);
	CHECK(reg.port == 7000);
	CHECK(reg.files.empty()); // registered with no files
	CHECK(rest.empty());

	h.started(entry("a"), 0);
	h.started(entry("b"), 1);
	h.take_updates();
	h.completed("a");
	h.grew("a", 9); // a complete file's count is not sent
	h.dropped("b");
	auto frames = h.take_updates();
	REQUIRE(frames.size() == 1);
	CHECK(std::get<p2p::Update>(frames[0]) == p2p::Update{{entry("a")}, {"b"}});
	CHECK(h.features_needed(frames[0]) == 0);

	h.started(entry("c"), 2);
	h.dropped("c"); // never told: nothing to remove
	CHECK_FALSE(h.has_changes());

	h.started(entry("d"), 4);
	h.full_pages(7000, reg, rest);
	CHECK(reg.files == std::vector<p2p::FileEntry>{entry("a")});
	CHECK(partials(rest) == std::vector<p2p::PartialEntry>{{entry("d"), 4}});
	h.clear_changes(); // the REGISTER said it all
	CHECK_FALSE(h.has_changes());
	CHECK(h.size() == 2);
}

TEST_CASE("serve holdings: many files go in pages", "[p2pget][serve]")
{
	double now = 0;
	ServeHoldings h([&] { return now; });
	for (std::size_t i = 0; i < ServeHoldings::kPage + 5; i++)
		h.started(entry("f" + std::to_string(i)), 1);
	auto frames = h.take_updates();
	CHECK(frames.size() == 2);
	CHECK(partials(frames).size() == ServeHoldings::kPage + 5);
}
