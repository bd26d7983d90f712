// The serving side as the command line asks for it: nothing with
// --no-serve, else a ServeNode told by the engine's downloads.
#pragma once

#include "engine.h"
#include "options.h"
#include "serve-node.h"

#include <memory>
#include <optional>
#include <string>

namespace p2pget {

// nullptr with --no-serve, or when the chunk port cannot be opened (said
// on stderr). The node must go before the engine.
std::unique_ptr<ServeNode> start_serving(Engine& engine, const Options& o, const std::optional<p2p::SecretKey>& secret);

} // namespace p2pget
