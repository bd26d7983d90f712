// The serving side's set-up and what the downloads tell it; see
// serve-node.h (the seeding itself is serve-seed.cc).
#include "serve-node.h"

#include "download.h"
#include "serve-seed.h"

#include "serve/listen-socket.h"

#include "p2p/clock.h"
#include "p2p/conn-limit.h"
#include "p2p/log.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace p2pget {

namespace {

// Descriptors kept free for the downloads themselves (peer connections,
// partial files, sidecars), whatever the clients of our chunk port do.
constexpr std::size_t kReservedFds = 512;
constexpr std::size_t kMaxConnections = 128;

std::uint16_t bound_port(int fd)
{
	sockaddr_storage ss{};
	socklen_t len = sizeof ss;
	if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
	return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

} // namespace

ServeNode::ServeNode(event_base* base, ServeConfig config, std::string& error)
	: base_(base), config_(std::move(config))
{
	int lfd = serve::listen_socket(config_.port, &error);
	if (lfd < 0)
		return;
	port_ = bound_port(lfd);
	serve::ChunkServerLimits limits;
	limits.rate_limit = config_.upload_limit;
	limits.max_connections = p2p::connection_budget(kReservedFds, kMaxConnections);
	limits.secret = config_.secret ? &*config_.secret : nullptr;
	server_ = std::make_unique<serve::ChunkServer>(base_, lfd, source_, counters_, limits);
	if (!server_->ok()) {
		error = "cannot listen on port " + std::to_string(config_.port);
		server_.reset();
		return;
	}
	log_info("serving verified chunks on port %u%s", port_, limits.secret ? " (frames MAC'd)" : "");
}

// The sessions go before the source and counters they use.
ServeNode::~ServeNode() { server_.reset(); }

void ServeNode::manifest_ready(const Download& d)
{
	const FileResult& r = d.result();
	ServedVersion v{r.size, r.hash, d.chunk_size(), d.chunk_hashes()};
	if (!source_.add(d.name(), std::move(v), d.file_fd()))
		log_warn("%s: not serving it: %s", d.name().c_str(), std::strerror(errno));
}

void ServeNode::chunk_verified(const Download& d, std::uint32_t chunk)
{
	if (source_.verify(d.name(), chunk) && server_)
		server_->announce(d.name(), chunk);
}

void ServeNode::chunk_fetching(const Download& d, std::uint32_t chunk)
{
	if (server_)
		server_->announce_fetching(d.name(), chunk);
}

void ServeNode::file_finished(const Download& d)
{
	source_.complete(d.name());
	const FileResult& r = d.result();
	done_.push_back({d.name(), r.size, r.hash});
}

void ServeNode::file_failed(const Download& d) { source_.remove(d.name()); }

int ServeNode::seed()
{
	if (!server_ || done_.empty())
		return 0;
	SeedRun run(base_, *server_, counters_, done_, config_, port_);
	return run.run(p2p::precise_now());
}

} // namespace p2pget
