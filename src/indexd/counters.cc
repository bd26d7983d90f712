// The counters' list as data, and as name/value pairs.
#include "counters.h"

namespace indexd {

std::span<const CounterInfo> counter_list()
{
	static constexpr CounterInfo list[] = {
#define INDEXD_COUNTER_INFO(name, refusal, help) {#name, refusal, help, &Counters::name},
		INDEXD_COUNTERS(INDEXD_COUNTER_INFO)
#undef INDEXD_COUNTER_INFO
	};
	return list;
}

std::vector<std::pair<std::string, std::uint64_t>> Counters::pairs() const
{
	std::vector<std::pair<std::string, std::uint64_t>> out;
	for (auto& c : counter_list())
		out.emplace_back(c.name, this->*c.field);
	return out;
}

std::vector<std::pair<std::string, std::uint64_t>> Counters::refusal_pairs() const
{
	std::vector<std::pair<std::string, std::uint64_t>> out;
	for (auto& c : counter_list())
		if (c.refusal)
			out.emplace_back(c.name, this->*c.field);
	return out;
}

std::uint64_t Counters::refusals() const
{
	std::uint64_t sum = 0;
	for (auto& c : counter_list())
		if (c.refusal)
			sum += this->*c.field;
	return sum;
}

} // namespace indexd
