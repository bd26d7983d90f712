// From the command line to a serving side; see serve-setup.h.
#include "serve-setup.h"

#include "p2p/log.h"

namespace p2pget {

std::unique_ptr<ServeNode> start_serving(Engine& engine, const Options& o, const std::optional<p2p::SecretKey>& secret)
{
	if (!o.serve)
		return nullptr;
	ServeConfig c;
	c.port = o.serve_port;
	c.upload_limit = o.upload_limit;
	c.seed_time = o.seed_time;
	c.indexes = o.indexes;
	c.timeout = o.timeout;
	c.secret = secret;
	c.identity_file = o.identity_file;
	c.is_self = [&engine](const p2p::PeerHolding& h) { return engine.is_self(p2p::to_sockaddr(h.host, h.port)); };
	std::string error;
	auto node = std::make_unique<ServeNode>(engine.base(), std::move(c), error);
	if (!node->ok()) {
		p2p::print_error("cannot serve: %s (--no-serve downloads without serving)", error.c_str());
		return nullptr;
	}
	engine.set_observer(node.get());
	engine.set_serve_port(node->port()); // so that it never fetches from itself
	return node;
}

} // namespace p2pget
