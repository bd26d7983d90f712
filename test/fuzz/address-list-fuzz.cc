// libFuzzer target: -i lists (A[:PORT],B[:PORT]) as users and P2P_INDEX
// give them. Whatever parses prints back to a list that parses the same.
#include "p2p/address.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	std::string_view text(reinterpret_cast<const char*>(data), size);
	auto list = p2p::parse_host_port_list(text, 60000);
	if (!list)
		return 0;
	auto again = p2p::parse_host_port_list(p2p::format_host_ports(*list), 1);
	if (!again || again->size() != list->size())
		std::abort();
	for (std::size_t i = 0; i < list->size(); i++)
		if ((*again)[i].host != (*list)[i].host || (*again)[i].port != (*list)[i].port)
			std::abort();
	return 0;
}
