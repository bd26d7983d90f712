// ChunkSession's part in chunk maps: answering HAVE_REQUEST and pushing HAVE
// (and FETCHING) for what its client subscribed to. Such news goes through the same output
// as everything else: after any CHUNK_DATA already queued and its bytes
// (send_file appends a frame and its bytes at once), so no frame ever
// lands inside raw chunk bytes.
#include "chunk-session.h"

#include "chunk-maps.h"
#include "chunk-server.h"

#include "p2p/clock.h"

namespace serve {

void ChunkSession::serve(const p2p::HaveRequest& req)
{
	auto f = server_.source().find(req.name);
	if (auto no = check_have(f ? &*f : nullptr, req)) {
		refuse(no->code, 0, no->text);
		return;
	}
	if (!haves_.add(req)) {
		refuse(p2p::ErrorCode::Busy, 0, "chunk maps of too many files asked on one connection");
		return;
	}
	conn_.send(have_map(*f, req.name));
	for (std::uint32_t chunk : server_.source().fetching(req.name, p2p::precise_now()))
		conn_.send(p2p::Fetching{req.name, chunk});
}

void ChunkSession::announce(const std::string& name, const ServedFile& f, const p2p::Message& news)
{
	if (conn_.closed() || !haves_.wants(name, f.size, f.content))
		return;
	conn_.send(news);
}

} // namespace serve
