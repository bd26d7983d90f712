#include "p2p/parse-number.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace p2p {

std::optional<std::uint64_t> parse_u64(std::string_view text, std::uint64_t max)
{
	if (text.empty() || text.size() > 20)
		return std::nullopt;
	std::uint64_t value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
	if (ec != std::errc() || end != text.data() + text.size() || value > max)
		return std::nullopt;
	return value;
}

std::optional<double> parse_seconds(std::string_view text, double max)
{
	if (text.empty() || text.size() > 32 || !std::isdigit(static_cast<unsigned char>(text.front())))
		return std::nullopt;
	std::string s(text);
	char* end = nullptr;
	double v = std::strtod(s.c_str(), &end);
	if (end != s.c_str() + s.size() || !std::isfinite(v) || v <= 0 || v > max)
		return std::nullopt;
	return v;
}

std::optional<std::uint64_t> parse_size(std::string_view text)
{
	std::size_t digits = 0;
	while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
		digits++;
	auto number = parse_u64(text.substr(0, digits));
	if (!number)
		return std::nullopt;
	std::string suffix;
	for (char c : text.substr(digits))
		suffix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
	if (suffix.size() > 1 && (suffix.ends_with("IB") || suffix.ends_with("B")))
		suffix.resize(suffix.ends_with("IB") ? suffix.size() - 2 : suffix.size() - 1);
	unsigned shift = 0;
	if (suffix == "K")
		shift = 10;
	else if (suffix == "M")
		shift = 20;
	else if (suffix == "G")
		shift = 30;
	else if (!suffix.empty() && suffix != "B")
		return std::nullopt;
	if (*number > (UINT64_MAX >> shift))
		return std::nullopt;
	return *number << shift;
}

} // namespace p2p
