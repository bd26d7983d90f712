// Numbers from the command line: a bad number is an error, never a zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace p2p {

// Decimal digits only, no sign, no spaces; nullopt above `max`.
std::optional<std::uint64_t> parse_u64(std::string_view text, std::uint64_t max = UINT64_MAX);

// Decimal seconds such as "15" or "0.5"; nullopt unless 0 < value <= max.
std::optional<double> parse_seconds(std::string_view text, double max = 86400.0);

// A byte count or rate with an optional K, M or G suffix (powers of 1024,
// case-insensitive, an optional trailing 'B'/"iB"): "20M" = 20971520.
std::optional<std::uint64_t> parse_size(std::string_view text);

} // namespace p2p
