// Which file names may cross the wire. One rule for every program: a shared
// name is relative, '/'-separated, and no component is empty, "..", or
// starts with '.' (hidden files hold state and partial downloads).
#pragma once

#include <string_view>

namespace p2p {

// Returns nullptr when `name` is acceptable, else why it is not.
const char* name_problem(std::string_view name);

inline bool is_safe_name(std::string_view name)
{
	return name_problem(name) == nullptr;
}

} // namespace p2p
