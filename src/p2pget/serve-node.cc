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
	: base_(base), config_(std::move(config)), source_(counters_, config_.timeout),
	  holdings_([] { return p2p::precise_now(); }),
	  due_ev_(evtimer_new(base, due_cb, this))
{
	if (config_.register_at_index && !start_link(error))
		return;
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

// Registered from the first file served on: before that there is nothing
// to offer, and a download the index cannot answer registers nothing.
void ServeNode::ensure_link()
{
	if (link_ || index_addrs_.empty() || !identity_)
		return;
	link_ = std::make_unique<p2p::RegistrationLink>(base_, index_addrs_, port_,
	                                                holdings_, link_counters_, *identity_,
	                                                config_.secret ? &*config_.secret : nullptr);
	link_->start();
}

// The key (a new one per run unless --identity names a file) and the
// index's address; the link itself starts with the first file served.
bool ServeNode::start_link(std::string& error)
{
	if (config_.identity_file.empty()) {
		identity_.emplace(p2p::Identity::generate());
	} else {
		std::string why;
		auto id = p2p::Identity::load_or_create(config_.identity_file, &why);
		if (!id) {
			error = "--identity " + why;
			return false;
		}
		identity_.emplace(std::move(*id));
	}
	for (auto& index : config_.indexes) {
		std::string why;
		if (auto addr = p2p::resolve(index, &why))
			index_addrs_.push_back(*addr);
		else
			log_info("not registering at the index %s: cannot resolve it: %s", index.host.c_str(), why.c_str());
	}
	return true;
}

// The link (its connection) and the sessions go before what they use.
ServeNode::~ServeNode()
{
	link_.reset();
	server_.reset();
}

void ServeNode::due_cb(evutil_socket_t, short, void* self)
{
	auto* n = static_cast<ServeNode*>(self);
	if (n->link_)
		n->link_->changed();
	n->schedule_counts();
}

void ServeNode::schedule_counts()
{
	auto due = holdings_.next_due();
	if (!due || !link_ || evtimer_pending(due_ev_.get(), nullptr))
		return;
	timeval tv = p2p::to_timeval(std::max(0.0, *due - p2p::precise_now()) + 0.01);
	evtimer_add(due_ev_.get(), &tv);
}

void ServeNode::manifest_ready(const Download& d)
{
	const FileResult& r = d.result();
	ServedVersion v{r.size, r.hash, d.chunk_size(), d.chunk_hashes()};
	if (!source_.add(d.name(), std::move(v), d.file_fd())) {
		log_warn("%s: not serving it: %s", d.name().c_str(), std::strerror(errno));
		return;
	}
	holdings_.started({d.name(), r.size, r.hash}, 0);
	ensure_link();
	if (link_)
		link_->changed();
}

void ServeNode::chunk_verified(const Download& d, std::uint32_t chunk)
{
	if (!source_.verify(d.name(), chunk))
		return;
	if (server_)
		server_->announce(d.name(), chunk);
	holdings_.grew(d.name(), source_.verified_count(d.name()));
	if (link_ && holdings_.has_changes())
		link_->changed();
	schedule_counts();
}

void ServeNode::chunk_fetching(const Download& d, std::uint32_t chunk)
{
	source_.fetch(d.name(), chunk, p2p::precise_now());
	if (server_)
		server_->announce_fetching(d.name(), chunk);
}

void ServeNode::file_finished(const Download& d)
{
	source_.complete(d.name());
	const FileResult& r = d.result();
	done_.push_back({d.name(), r.size, r.hash});
	holdings_.completed(d.name());
	if (link_)
		link_->changed();
}

void ServeNode::file_failed(const Download& d)
{
	source_.remove(d.name());
	holdings_.dropped(d.name());
	if (link_)
		link_->changed();
}

int ServeNode::seed()
{
	int sig = 0;
	if (server_ && !done_.empty()) {
		SeedRun run(base_, *server_, counters_, done_, config_);
		sig = run.run(p2p::precise_now());
	}
	unregister();
	return sig;
}

// Waits (at most the link's 1 s) for the index to take our UNREGISTER.
void ServeNode::unregister()
{
	if (!link_)
		return;
	bool done = false;
	link_->unregister([&] { done = true; });
	while (!done)
		event_base_loop(base_, EVLOOP_ONCE);
	link_.reset();
}

} // namespace p2pget
