#include "p2p/metrics.h"

#include <algorithm>
#include <cstdio>

namespace p2p {
namespace {

// Label values and HELP texts escape backslash and newline (and quotes
// in label values), as the exposition format says.
std::string escaped(std::string_view s, bool quote)
{
	std::string out;
	for (char c : s) {
		if (c == '\\')
			out += "\\\\";
		else if (c == '\n')
			out += "\\n";
		else if (quote && c == '"')
			out += "\\\"";
		else
			out += c;
	}
	return out;
}

std::string number(double v)
{
	char buf[64];
	std::snprintf(buf, sizeof buf, "%.10g", v);
	return buf;
}

} // namespace

void PromText::family(std::string_view name, std::string_view help, const char* type)
{
	if (last_family_ == name)
		return;
	last_family_ = name;
	out_ += "# HELP " + std::string(name) + " " + escaped(help, false) + "\n";
	out_ += "# TYPE " + std::string(name) + " " + type + "\n";
}

void PromText::sample(std::string_view name, const Labels& labels, const std::string& value)
{
	out_ += name;
	if (!labels.empty()) {
		out_ += '{';
		for (std::size_t i = 0; i < labels.size(); i++)
			out_ += (i ? "," : "") + labels[i].first + "=\"" + escaped(labels[i].second, true) + "\"";
		out_ += '}';
	}
	out_ += " " + value + "\n";
}

void PromText::counter(std::string_view name, std::string_view help, std::uint64_t value, const Labels& labels)
{
	family(name, help, "counter");
	sample(name, labels, std::to_string(value));
}

void PromText::gauge(std::string_view name, std::string_view help, double value, const Labels& labels)
{
	family(name, help, "gauge");
	sample(name, labels, number(value));
}

void PromText::histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                         std::span<const std::uint64_t> counts, double sum)
{
	family(name, help, "histogram");
	std::string bucket = std::string(name) + "_bucket";
	std::uint64_t total = 0;
	for (std::size_t i = 0; i < counts.size(); i++) {
		total += counts[i];
		sample(bucket, {{"le", i < bounds.size() ? number(bounds[i]) : "+Inf"}}, std::to_string(total));
	}
	sample(std::string(name) + "_sum", {}, number(sum));
	sample(std::string(name) + "_count", {}, std::to_string(total));
}

void Histogram::observe(double value, std::uint64_t n)
{
	auto at = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
	counts_[static_cast<std::size_t>(at)] += n;
	sum_ += value * static_cast<double>(n);
}

} // namespace p2p
