#include "p2p/names.h"

#include "p2p/protocol.h"

namespace p2p {

const char* name_problem(std::string_view name)
{
	if (name.empty())
		return "name is empty";
	if (name.size() > kMaxName)
		return "name is too long";
	if (name.find('\0') != std::string_view::npos)
		return "name contains a NUL byte";
	if (name.front() == '/')
		return "name is absolute";
	std::size_t start = 0;
	while (start <= name.size()) {
		std::size_t end = name.find('/', start);
		if (end == std::string_view::npos)
			end = name.size();
		std::string_view part = name.substr(start, end - start);
		if (part.empty())
			return "name has an empty component";
		if (part == "..")
			return "name contains a '..' component";
		if (part.front() == '.')
			return "name or folder starts with '.'";
		start = end + 1;
	}
	return nullptr;
}

} // namespace p2p
