// Serving one client. Chunk bytes go through libevent file segments: the
// output evbuffer of a socket bufferevent has EVBUFFER_FLAG_DRAINS_TO_FD,
// so libevent (2.1, Linux) writes such a segment with sendfile(2) straight
// from the page cache, no copy through user space (checked with
// `strace -f -e trace=sendfile`). The header frame goes out first with
// writev, then the segment, in order, on the same evbuffer. In a closed
// cluster the header goes through FramedConn::send and so carries its MAC;
// the segment's bytes carry none (their integrity is the chunk hash).
#include "chunk-session.h"

#include "chunk-server.h"
#include "serve-check.h"
#include "tcp-send-state.h"

#include "p2p/clock.h"
#include "p2p/log.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <utility>
#include <unistd.h>

namespace serve {

// The optional exchanges this server speaks (p2p-protocol.7, Feature bits).
inline constexpr std::uint64_t kServeFeatures = p2p::kFeatureChunkMaps | p2p::kFeatureSpareRequests;

// Next request is answered only when the output has drained to this: a
// few chunks in flight keep the socket busy, and memory stays bounded
// however many requests a client pipelines (a file segment holds an fd,
// not the bytes).
inline constexpr std::size_t kLowWater = 4u << 20;
// More queued requests than this and we stop reading until they drain.
inline constexpr std::size_t kMaxQueue = 1024;
// A chunk request answered with fewer bytes (an error, an empty chunk)
// does not use up a turn.
inline constexpr std::size_t kMinTurnBytes = 64u << 10;
// Requests are a few hundred bytes; an honest client sends one whole in
// far less than this, and one trickling bytes is cut off.
inline constexpr double kFrameDeadline = 10.0;

ChunkSession::ChunkSession(ChunkServer& server, evutil_socket_t fd, std::uint64_t id)
	: server_(server), id_(id),
	  conn_(server.base(), fd,
	        p2p::FramedConn::Callbacks{
			        .on_message = [this](p2p::Message& m) { on_message(m); },
			        .on_raw = nullptr,
			        .on_drained = [this] { pump(); },
			        .on_close = [this](const std::string& reason) { on_close(reason); },
			        .on_connected = nullptr,
		        })
{
	if (const p2p::SecretKey* secret = server.limits().secret)
		conn_.set_secret(*secret);
	conn_.set_write_low_water(kLowWater);
	// The idle timeout restarts with every byte; this one does not, so a
	// client trickling a frame byte by byte is dropped too.
	conn_.set_frame_deadline(kFrameDeadline);
	limited_ = server.upload_limit().join(conn_.bev());
	update_timeouts();
	log_debug("session %" PRIu64 ": %s connected", id_, conn_.peer_name().c_str());
}

void ChunkSession::on_message(p2p::Message& msg)
{
	if (std::holds_alternative<p2p::ManifestRequest>(msg) || std::holds_alternative<p2p::ChunkRequest>(msg) ||
	    std::holds_alternative<p2p::ChunkRequestSpare>(msg) || std::holds_alternative<p2p::Ping>(msg) ||
	    std::holds_alternative<p2p::Stats>(msg) || std::holds_alternative<p2p::HaveRequest>(msg)) {
		queue_.push_back(std::move(msg));
	} else {
		server_.counters().errors_protocol++;
		server_.counters().bad_frames++;
		log_info("session %" PRIu64 ": %s sent an unexpected %s", id_, conn_.peer_name().c_str(),
		         p2p::msg_type_name(p2p::type_of(msg)));
		conn_.fail(p2p::ErrorCode::UnknownType, std::string("a peer does not answer ") +
		                                            p2p::msg_type_name(p2p::type_of(msg)));
		return;
	}
	if (queue_.size() >= kMaxQueue && !reading_paused_) {
		// The client is far ahead of us; its requests wait in the socket.
		bufferevent_disable(conn_.bev(), EV_READ);
		reading_paused_ = true;
	}
	pump();
}

static bool is_chunk_request(const p2p::Message& m)
{
	return std::holds_alternative<p2p::ChunkRequest>(m) || std::holds_alternative<p2p::ChunkRequestSpare>(m);
}

bool ChunkSession::wants_turn() const
{
	return !queue_.empty() && is_chunk_request(queue_.front());
}

// One chunk a turn while other sessions wait for one; as many as the
// output allows while none does.
bool ChunkSession::take_turn()
{
	SendTurns& turns = server_.turns();
	if (turns.has_turn(id_))
		return turn_chunks_ == 0 || !turns.waiting();
	return server_.request_turn(*this);
}

void ChunkSession::check_turn(double now, bool fresh)
{
	SendTurns& turns = server_.turns();
	bool more = wants_turn();
	if (more && (turn_chunks_ == 0 || !turns.waiting()))
		return; // pump() goes on with this turn
	if (fresh)
		read_send_state();
	if (!turns.turn_over(conn_.output_length() + kernel_queued_))
		return;
	turn_chunks_ = 0;
	server_.end_turn(*this, now, more);
}

void ChunkSession::read_send_state()
{
	auto st = tcp_send_state(bufferevent_getfd(conn_.bev()));
	if (!st)
		return;
	unreported_acked_ += st->acked - std::min(st->acked, acked_);
	acked_ = st->acked;
	kernel_queued_ = st->queued;
}

std::uint64_t ChunkSession::take_acked()
{
	if (busy() || kernel_queued_ > 0)
		read_send_state();
	return std::exchange(unreported_acked_, 0);
}

void ChunkSession::pump()
{
	// Each write may bring the end of our turn: the next sender starts at
	// once, not at the next tick.
	if (server_.turns().has_turn(id_))
		check_turn(p2p::precise_now(), true);
	while (!queue_.empty() && !conn_.closed() && conn_.output_length() <= kLowWater) {
		if (wants_turn() && !take_turn())
			break;
		p2p::Message msg = std::move(queue_.front());
		queue_.pop_front();
		std::size_t before = conn_.output_length();
		if (auto* m = std::get_if<p2p::ManifestRequest>(&msg))
			serve(*m);
		else if (auto* c = std::get_if<p2p::ChunkRequest>(&msg))
			serve(*c);
		else if (auto* sp = std::get_if<p2p::ChunkRequestSpare>(&msg))
			serve(*sp);
		else if (auto* p = std::get_if<p2p::Ping>(&msg))
			conn_.send(p2p::Pong{p->token});
		else if (std::holds_alternative<p2p::Stats>(msg))
			conn_.send(stats_reply());
		else if (auto* h = std::get_if<p2p::HaveRequest>(&msg))
			serve(*h);
		if (conn_.output_length() > before + kMinTurnBytes)
			turn_chunks_++;
	}
	if (conn_.closed())
		return;
	if (reading_paused_ && !draining_ && queue_.size() < kMaxQueue / 2) {
		bufferevent_enable(conn_.bev(), EV_READ);
		reading_paused_ = false;
	}
	if (draining_ && !busy()) {
		conn_.close("drained for shutdown");
		return;
	}
	update_timeouts();
}

// What this server speaks comes first, then the source's own counters.
p2p::StatsReply ChunkSession::stats_reply() const
{
	p2p::StatsReply reply{{{"features", kServeFeatures}}};
	for (auto& pair : server_.source().stats())
		reply.counters.push_back(std::move(pair));
	return reply;
}

void ChunkSession::update_timeouts()
{
	// Idle means nothing asked and nothing to send: then the read timeout
	// runs. While busy, only a client that stops reading for that long is
	// dropped, so a slow, rate-limited transfer is never cut.
	int mode = busy() ? 1 : 0;
	if (mode == timeout_mode_)
		return;
	timeout_mode_ = mode;
	timeval tv = p2p::to_timeval(server_.limits().idle_timeout);
	if (mode == 0)
		bufferevent_set_timeouts(conn_.bev(), &tv, nullptr);
	else
		bufferevent_set_timeouts(conn_.bev(), nullptr, &tv);
}

void ChunkSession::refuse(p2p::ErrorCode code, std::uint32_t ref, const std::string& text)
{
	Counters& c = server_.counters();
	if (code == p2p::ErrorCode::NotFound)
		c.errors_not_found++;
	else if (code == p2p::ErrorCode::Changed)
		c.errors_changed++;
	else if (code == p2p::ErrorCode::BadRange)
		c.errors_bad_range++;
	log_debug("session %" PRIu64 ": refused (%s): %s", id_, p2p::error_code_name(code), text.c_str());
	conn_.send(p2p::Error{code, ref, text.substr(0, p2p::kMaxMessageText)});
}

void ChunkSession::serve(const p2p::ManifestRequest& req)
{
	server_.counters().manifest_requests++;
	auto f = server_.source().find(req.name);
	if (auto no = check_manifest(f ? &*f : nullptr, req)) {
		refuse(no->code, 0, no->text);
		return;
	}
	conn_.send(manifest_page(*f, req));
}

void ChunkSession::serve(const p2p::ChunkRequest& req)
{
	server_.counters().chunk_requests++;
	auto f = server_.source().find(req.name);
	if (auto no = check_chunk(f ? &*f : nullptr, req)) {
		refuse(no->code, req.id, no->text);
		return;
	}
	int fd = open_for(req);
	if (fd >= 0)
		send_file(fd, req);
}

// A spare request is for a chunk, one chunk, that no other client was sent
// just now; else it is answered like any other.
void ChunkSession::serve(const p2p::ChunkRequestSpare& req)
{
	auto chunk = chunk_starting_at(req.offset);
	if (chunk && req.length <= p2p::kChunkSize &&
	    server_.recent_sends().taken(req.name, *chunk, id_, p2p::precise_now())) {
		server_.counters().chunks_taken++;
		log_debug("session %" PRIu64 ": chunk %" PRIu32 " of %s was sent elsewhere just now", id_, *chunk,
		          req.name.c_str());
		conn_.send(p2p::Error{p2p::ErrorCode::Taken, req.id, "sent to another client just now"});
		return;
	}
	serve(static_cast<const p2p::ChunkRequest&>(req));
}

int ChunkSession::open_for(const p2p::ChunkRequest& req)
{
	ServeSource& source = server_.source();
	int fd = source.open_file(req.name);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err == EMFILE || err == ENFILE) {
		// Out of descriptors: the file is fine, we are full. Say so rather
		// than CHANGED, and do not look again at a file that did not change.
		server_.counters().files_busy++;
		log_warn("session %" PRIu64 ": cannot open %s: %s", id_, req.name.c_str(), std::strerror(err));
		refuse(p2p::ErrorCode::Busy, req.id, "out of file descriptors, try later");
		return -1;
	}
	source.changed(req.name);
	refuse(p2p::ErrorCode::Changed, req.id,
	       req.name + ": " + (err == ESTALE ? "changed since it was hashed" : std::strerror(err)));
	return -1;
}

void ChunkSession::send_file(int fd, const p2p::ChunkRequest& req)
{
	Counters& c = server_.counters();
	if (req.length == 0) {
		::close(fd);
		conn_.send(p2p::ChunkData{req.id, req.offset, 0});
		c.chunks_served++;
		return;
	}
	evbuffer_file_segment* seg = evbuffer_file_segment_new(fd, static_cast<ev_off_t>(req.offset),
	                                                       static_cast<ev_off_t>(req.length), EVBUF_FS_CLOSE_ON_FREE);
	if (!seg) {
		::close(fd);
		refuse(p2p::ErrorCode::Internal, req.id, req.name + ": cannot map the file");
		return;
	}
	conn_.send(p2p::ChunkData{req.id, req.offset, req.length});
	// Under a rate limit the chunk goes in pieces of about one tick's
	// budget (upload-limit.h), so the rate stays even.
	evbuffer* out = bufferevent_get_output(conn_.bev());
	std::uint64_t piece = server_.upload_limit().piece_size();
	if (piece == 0)
		piece = req.length;
	bool ok = true;
	for (std::uint64_t at = 0; at < req.length && ok; at += piece) {
		std::uint64_t n = std::min<std::uint64_t>(piece, req.length - at);
		ok = evbuffer_add_file_segment(out, seg, static_cast<ev_off_t>(at), static_cast<ev_off_t>(n)) == 0;
	}
	evbuffer_file_segment_free(seg); // the evbuffer holds its own references
	if (!ok) {
		conn_.close("cannot queue file data");
		return;
	}
	c.chunks_served++;
	c.bytes_served += req.length;
	if (auto chunk = chunk_starting_at(req.offset))
		server_.recent_sends().sent(req.name, *chunk, id_, p2p::precise_now());
}

void ChunkSession::drain()
{
	draining_ = true;
	if (!conn_.closed()) {
		bufferevent_disable(conn_.bev(), EV_READ);
		pump();
	}
}

void ChunkSession::on_close(const std::string& reason)
{
	limited_.leave(); // a closed session takes nothing more from the bucket
	Counters& c = server_.counters();
	if (conn_.refused_with() != p2p::ErrorCode::None) {
		c.errors_protocol++;
		if (conn_.refused_with() == p2p::ErrorCode::BadAuth)
			c.bad_macs++;
		else if (conn_.refused_with() == p2p::ErrorCode::Timeout)
			c.frame_timeouts++;
		else
			c.bad_frames++;
		log_info("session %" PRIu64 ": %s refused: %s", id_, conn_.peer_name().c_str(), reason.c_str());
	} else if (reason == "idle timeout") {
		server_.counters().idle_closed++;
		log_info("session %" PRIu64 ": closing %s: idle for %.0f s", id_, conn_.peer_name().c_str(),
		         server_.limits().idle_timeout);
	} else {
		log_debug("session %" PRIu64 ": %s closed: %s", id_, conn_.peer_name().c_str(), reason.c_str());
	}
	server_.session_closed(this, reason);
}

} // namespace serve
