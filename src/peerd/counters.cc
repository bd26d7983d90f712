// Formatting of the counters for the log and the STATS reply.
#include "counters.h"

#include "p2p/log.h"

namespace peerd {

std::vector<std::pair<std::string, std::uint64_t>> Counters::own_pairs() const
{
	return {
		{"files_hashed", files_hashed},
		{"files_from_cache", files_from_cache},
		{"bytes_hashed", bytes_hashed},
		{"hash_failures", hash_failures},
		{"rescans", rescans},
		{"index_connects", index_connects},
		{"index_registers", index_registers},
		{"index_updates", index_updates},
		{"index_errors", index_errors},
		{"index_refused", index_refused},
	};
}

std::vector<std::pair<std::string, std::uint64_t>> Counters::pairs() const
{
	auto all = server.pairs();
	auto own = own_pairs();
	all.insert(all.end(), own.begin(), own.end());
	return all;
}

std::string Counters::format() const { return p2p::format_counters(pairs()); }

std::vector<std::pair<std::string, std::uint64_t>> Counters::refusal_pairs() const
{
	auto all = server.refusal_pairs();
	all.emplace_back("index_refused", index_refused);
	return all;
}

std::uint64_t Counters::refusals() const
{
	std::uint64_t sum = 0;
	for (auto& [name, v] : refusal_pairs())
		sum += v;
	return sum;
}

std::string Counters::format_refusals() const { return p2p::format_counters(refusal_pairs()); }

} // namespace peerd
