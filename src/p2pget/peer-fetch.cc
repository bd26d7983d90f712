// A peer connection for one file; see peer-fetch.h.
#include "peer-fetch.h"

#include "download.h"

#include "p2p/log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

namespace p2pget {

// While a chunk's bytes stream in, the socket only wakes us once this much
// (or the rest of the chunk) has arrived. Without it the reactor races the
// sender and reads, and writes to disk, 4 KiB at a time.
static constexpr std::uint32_t kBodyLowWater = 256u << 10;

PeerFetch::PeerFetch(event_base* base, Download& owner, ChunkPlan::PeerId id, const p2p::SockAddr& addr,
                     double timeout, const p2p::SecretKey* secret, PeerBuffers& buffers, bool partial)
	: owner_(owner), id_(id), addr_(addr), partial_(partial), label_(p2p::format_endpoint(addr.get())),
	  timeout_(timeout)
{
	timer_.reset(evtimer_new(base, timer_cb, this));
	PeerConn::Callbacks cb;
	cb.on_message = [this](p2p::Message& m) { on_message(m); };
	cb.on_raw = [this](std::span<const std::byte> b) { on_raw(b); };
	cb.on_raw_in_file = [this](std::size_t n) { on_raw_in_file(n); };
	cb.raw_sink = [this](std::uint64_t& offset) { return raw_sink(offset); };
	cb.on_close = [this](const std::string& r) { on_close(r); };
	cb.on_connected = [this] { on_connected(); };
	conn_ = std::make_unique<PeerConn>(base, addr, buffers, std::move(cb));
	if (secret)
		conn_->set_secret(*secret);
	// The connect gets the same time as a request.
	timeval tv = p2p::to_timeval(timeout_);
	evtimer_add(timer_.get(), &tv);
}

void PeerFetch::timer_cb(evutil_socket_t, short, void* self) { static_cast<PeerFetch*>(self)->on_timer(); }

void PeerFetch::on_timer()
{
	if (!connected_)
		close("connect timed out");
	else if (!requests_.empty())
		close(requests_.front().kind == Kind::Chunk ? "chunk request timed out"
		      : requests_.front().kind == Kind::Manifest ? "manifest request timed out"
		                                                 : "chunk map request timed out");
}

// The timer always covers the request at the head of the pipeline: the
// peer answers in order, so that is the one it is working on now.
void PeerFetch::arm_timer()
{
	if (requests_.empty()) {
		evtimer_del(timer_.get());
		return;
	}
	timeval tv = p2p::to_timeval(timeout_);
	evtimer_add(timer_.get(), &tv);
}

// SO_RCVLOWAT: the least the socket must hold before it reads as ready.
// Never more than what is still owed, or the last bytes would never wake us.
void PeerFetch::set_low_water(std::uint32_t bytes)
{
	bytes = std::max<std::uint32_t>(bytes, 1);
	if (bytes == low_water_)
		return;
	conn_->set_low_water(static_cast<int>(bytes));
	low_water_ = bytes;
}

void PeerFetch::on_connected()
{
	connected_ = true;
	evtimer_del(timer_.get());
	ask(Kind::Stats, p2p::Stats{});
	// A partial holder's map first: the feature check, then the map itself.
	if (!partial_)
		owner_.on_peer_connected(*this);
}

void PeerFetch::ask(Kind kind, const p2p::Message& msg)
{
	Request r;
	r.kind = kind;
	requests_.push_back(std::move(r));
	if (requests_.size() == 1)
		arm_timer();
	conn_->send(msg);
}

// The replies of a partial holder's set-up: STATS_REPLY, then HAVE_MAP.
// False when the holder cannot be used.
bool PeerFetch::on_chunk_map_reply(Request& head, p2p::Message& msg)
{
	if (head.kind == Kind::Stats) {
		auto* st = std::get_if<p2p::StatsReply>(&msg);
		if (!st)
			return false;
		std::uint64_t features = 0;
		for (auto& [key, value] : st->counters)
			if (key == "features")
				features = value;
		requests_.pop_front();
		spare_requests_ = (features & p2p::kFeatureSpareRequests) != 0;
		if (!partial_) {
			arm_timer();
			owner_.pump(); // its pipeline had this reply in it
			return true;
		}
		if (!(features & p2p::kFeatureChunkMaps)) {
			close("a partial holder that does not say which chunks it has");
			return true;
		}
		ask(Kind::Map, owner_.have_request());
		return true;
	}
	auto* map = std::get_if<p2p::HaveMap>(&msg);
	if (!map || map->name != owner_.name())
		return false;
	requests_.pop_front();
	arm_timer();
	map_ready_ = true;
	owner_.on_have_map(*this, map->have);
	if (!closed())
		owner_.on_peer_connected(*this);
	return true;
}

// HAVE and FETCHING need no request: they follow the HAVE_MAP, between
// any replies.
void PeerFetch::on_have(const p2p::Have& have, bool fetching)
{
	if (!map_ready_ || have.name != owner_.name()) {
		bad_ = true;
		close(fetching ? "a FETCHING it was not asked for" : "a HAVE it was not asked for");
		return;
	}
	if (fetching)
		owner_.on_fetching(*this, have.chunk);
	else
		owner_.on_have(*this, have.chunk);
}

void PeerFetch::close(const std::string& reason)
{
	conn_->close(reason);
}

void PeerFetch::on_close(const std::string& reason)
{
	evtimer_del(timer_.get());
	requests_.clear();
	// A peer failing the MAC check is a bad peer: dropped for the file.
	owner_.on_peer_closed(*this, reason, bad_ || conn_->bad_auth());
}

void PeerFetch::request_manifest(const std::string& name, std::uint32_t first_chunk)
{
	Request r;
	r.kind = Kind::Manifest;
	r.chunk = first_chunk;
	requests_.push_back(std::move(r));
	if (requests_.size() == 1)
		arm_timer();
	conn_->send(p2p::ManifestRequest{name, first_chunk});
}

void PeerFetch::request_chunk(const std::string& name, const p2p::Hash& content, std::uint32_t chunk,
                              std::uint64_t offset, std::uint32_t length, Mode mode, bool spare)
{
	Request r;
	r.id = next_id_++;
	r.chunk = chunk;
	r.offset = offset;
	r.length = length;
	r.mode = mode;
	r.spare = spare && spare_requests_;
	requests_.push_back(std::move(r));
	if (requests_.size() == 1)
		arm_timer();
	p2p::ChunkRequest req{requests_.back().id, name, content, offset, length};
	if (requests_.back().spare)
		conn_->send(p2p::ChunkRequestSpare{req});
	else
		conn_->send(req);
}

void PeerFetch::discard(std::uint32_t chunk)
{
	for (auto& r : requests_) {
		if (r.kind == Kind::Chunk && r.chunk == chunk && r.mode != Mode::Discard) {
			r.mode = Mode::Discard;
			r.buf = {};
		}
	}
}

void PeerFetch::on_message(p2p::Message& msg)
{
	if (auto* have = std::get_if<p2p::Have>(&msg)) {
		on_have(*have);
		return;
	}
	if (auto* f = std::get_if<p2p::Fetching>(&msg)) {
		on_have(p2p::Have{f->name, f->chunk}, true);
		return;
	}
	if (requests_.empty()) {
		bad_ = true;
		close(std::string("unexpected ") + p2p::msg_type_name(p2p::type_of(msg)));
		return;
	}
	Request& head = requests_.front();
	if (auto* err = std::get_if<p2p::Error>(&msg)) {
		if (on_taken(*err))
			return;
		// NotFound / Changed / BadRange: this peer cannot serve the file
		// we want any more; the owner moves its chunks elsewhere.
		close(std::string("peer error ") + p2p::error_code_name(err->code) + ": " + err->text);
		return;
	}
	if (head.kind == Kind::Stats || head.kind == Kind::Map) {
		if (!on_chunk_map_reply(head, msg)) {
			bad_ = true;
			close("expected its chunk map");
		}
		return;
	}
	if (head.kind == Kind::Manifest) {
		auto* m = std::get_if<p2p::Manifest>(&msg);
		if (!m) {
			bad_ = true;
			close("expected a manifest");
			return;
		}
		requests_.pop_front();
		arm_timer();
		owner_.on_manifest(*this, *m);
		return;
	}
	auto* data = std::get_if<p2p::ChunkData>(&msg);
	if (!data || head.header_seen || data->id != head.id || data->offset != head.offset ||
	    data->length != head.length) {
		bad_ = true;
		close("chunk reply does not match the request");
		return;
	}
	head.header_seen = true;
	if (head.mode == Mode::Buffer)
		head.buf.reserve(head.length);
	if (head.length == 0) {
		finish_head();
		return;
	}
	conn_->expect_raw(head.length);
	set_low_water(std::min(head.length, kBodyLowWater));
}

// ERROR taken, the answer to the spare request at the head: the chunk
// went to another downloader, and the connection carries on.
bool PeerFetch::on_taken(const p2p::Error& err)
{
	Request& head = requests_.front();
	if (err.code != p2p::ErrorCode::Taken || head.kind != Kind::Chunk || !head.spare || err.ref != head.id)
		return false;
	std::uint32_t chunk = head.chunk;
	requests_.pop_front();
	arm_timer();
	owner_.on_chunk_taken(*this, chunk);
	if (!closed())
		owner_.pump();
	return true;
}

void PeerFetch::on_raw(std::span<const std::byte> bytes)
{
	Request& head = requests_.front();
	switch (head.mode) {
	case Mode::Write:
		if (!owner_.write_chunk_bytes(bytes.data(), bytes.size(), head.offset + head.got)) {
			// The owner fails the whole download; stop here.
			close(std::string("write failed: ") + std::strerror(errno));
			return;
		}
		break;
	case Mode::Buffer:
		head.buf.insert(head.buf.end(), bytes.begin(), bytes.end());
		break;
	case Mode::Discard:
		break;
	}
	advance(bytes.size());
}

// Only the body of a Write request goes straight to the file; a request
// switched to Discard stops that at once, before its next byte.
int PeerFetch::raw_sink(std::uint64_t& offset)
{
	if (requests_.empty())
		return -1;
	const Request& head = requests_.front();
	if (head.kind != Kind::Chunk || !head.header_seen || head.mode != Mode::Write || head.got >= head.length)
		return -1;
	offset = head.offset + head.got;
	return owner_.file_fd();
}

// Bytes of a Write request that splice put in the file already.
void PeerFetch::on_raw_in_file(std::size_t n)
{
	advance(n);
}

void PeerFetch::advance(std::size_t n)
{
	Request& head = requests_.front();
	head.got += static_cast<std::uint32_t>(n);
	bytes_ += n;
	owner_.on_bytes(n);
	if (head.got == head.length) {
		set_low_water(1);
		finish_head();
	} else if (head.length - head.got < low_water_) {
		set_low_water(head.length - head.got);
	}
}

void PeerFetch::finish_head()
{
	Request r = std::move(requests_.front());
	requests_.pop_front();
	arm_timer();
	switch (r.mode) {
	case Mode::Write:
		owner_.on_chunk_written(*this, r.chunk);
		break;
	case Mode::Buffer:
		owner_.on_chunk_buffered(*this, r.chunk, r.buf);
		break;
	case Mode::Discard:
		break;
	}
	if (!closed())
		owner_.pump();
}

} // namespace p2pget
