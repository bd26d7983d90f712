// Which version of a name to download when peers disagree: the (size,
// hash) most peers hold. Pure, so the rule is unit-tested.
#pragma once

#include "p2p/message.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace p2pget {

struct VersionChoice {
	std::uint64_t size = 0;
	p2p::Hash hash{};
	std::vector<p2p::PeerHolding> holders; // peers holding the chosen version, partly too
	std::size_t versions = 0;              // distinct versions offered
};

// Most complete holders wins (most partial ones when none is complete);
// ties go to the larger file, then the smaller hash, so every run picks the
// same one. `peers` must not be empty.
VersionChoice choose_version(const std::vector<p2p::PeerHolding>& peers);

} // namespace p2pget
