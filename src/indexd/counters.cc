// The counters' list turned into name/value pairs.
#include "counters.h"

namespace indexd {

std::vector<std::pair<std::string, std::uint64_t>> Counters::pairs() const
{
	return {
#define INDEXD_COUNTER_PAIR(name, refusal) {#name, name},
		INDEXD_COUNTERS(INDEXD_COUNTER_PAIR)
#undef INDEXD_COUNTER_PAIR
	};
}

std::vector<std::pair<std::string, std::uint64_t>> Counters::refusal_pairs() const
{
	std::vector<std::pair<std::string, std::uint64_t>> out;
#define INDEXD_REFUSAL_PAIR(name, refusal) \
	if (refusal)                       \
		out.emplace_back(#name, name);
	INDEXD_COUNTERS(INDEXD_REFUSAL_PAIR)
#undef INDEXD_REFUSAL_PAIR
	return out;
}

std::uint64_t Counters::refusals() const
{
	std::uint64_t sum = 0;
	for (auto& [name, value] : refusal_pairs())
		sum += value;
	return sum;
}

} // namespace indexd
