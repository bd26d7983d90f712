// Prometheus text exposition (version 0.0.4), built in memory: counters and
// gauges with their # HELP and # TYPE lines, labelled series, histograms.
// Pure: the HTTP side is metrics-server.h.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace p2p {

class PromText {
public:
	using Labels = std::vector<std::pair<std::string, std::string>>;

	// One series; a family's # HELP and # TYPE come before its first one.
	void counter(std::string_view name, std::string_view help, std::uint64_t value, const Labels& labels = {});
	void gauge(std::string_view name, std::string_view help, double value, const Labels& labels = {});
	// `bounds` are the upper bounds of the buckets (le), ascending; `counts`
	// the observations in each bucket (not cumulative), one more for +Inf.
	void histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
	               std::span<const std::uint64_t> counts, double sum);

	const std::string& text() const { return out_; }

private:
	void family(std::string_view name, std::string_view help, const char* type);
	void sample(std::string_view name, const Labels& labels, const std::string& value);

	std::string out_;
	std::string last_family_;
};

// Observations into fixed buckets, for a PromText histogram.
class Histogram {
public:
	explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
	// `n` observations of `value` at once.
	void observe(double value, std::uint64_t n = 1);
	std::span<const double> bounds() const { return bounds_; }
	std::span<const std::uint64_t> counts() const { return counts_; }
	double sum() const { return sum_; }

private:
	std::vector<double> bounds_;
	std::vector<std::uint64_t> counts_;
	double sum_ = 0;
};

} // namespace p2p
