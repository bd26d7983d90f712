// One connection to one peer for one file: asks for manifest pages and
// chunks, several requests in flight (the peer answers strictly in order),
// and streams each chunk's bytes straight into the partial file as they
// arrive. Every way it ends goes through PeerConn's one close path and is
// reported to the owning Download, which decides what the failure means.
//
// Every holder is first asked what it speaks (STATS); a complete one is
// asked for chunks meanwhile. A partial holder (another downloader) is then
// asked which chunks it has (HAVE_REQUEST); its HAVE_MAP and the HAVEs
// after it go to the Download, which only asks it for those chunks.
#pragma once

#include "chunk-plan.h"
#include "peer-conn.h"

#include "p2p/address.h"
#include "p2p/ev.h"

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace p2pget {

class Download;

class PeerFetch {
public:
	// Write: bytes go to the partial file, then a hashing job checks them.
	// Buffer: an endgame duplicate, held in memory and hashed there (the
	// plan chose the mode: ChunkPlan::Mode). Discard: another copy already
	// won; read and drop.
	enum class Mode { Write, Buffer, Discard };

	// `secret`: the closed cluster's key, or nullptr. `buffers`: the
	// Engine's, lent to the connection.
	// `partial`: a holder of part of the file, whose chunk map is asked
	// for (HAVE_REQUEST for `file`) as soon as it is connected.
	PeerFetch(event_base* base, Download& owner, ChunkPlan::PeerId id, const p2p::SockAddr& addr, double timeout,
	          const p2p::SecretKey* secret, PeerBuffers& buffers, bool partial = false);
	PeerFetch(const PeerFetch&) = delete;
	PeerFetch& operator=(const PeerFetch&) = delete;

	void request_manifest(const std::string& name, std::uint32_t first_chunk);
	// `spare`: a seed shared with other downloaders may answer that it sent
	// the chunk to one of them just now (when it speaks spare requests).
	void request_chunk(const std::string& name, const p2p::Hash& content, std::uint32_t chunk, std::uint64_t offset,
	                   std::uint32_t length, Mode mode, bool spare = false);
	// A copy from elsewhere won: drop whatever of `chunk` is still coming.
	void discard(std::uint32_t chunk);
	void close(const std::string& reason);

	ChunkPlan::PeerId id() const { return id_; }
	// Connected, and for a partial holder its chunk map has come.
	bool connected() const { return connected_ && !conn_->closed() && (!partial_ || map_ready_); }
	bool partial() const { return partial_; }
	// It sent something wrong: never to be asked again for this file.
	bool bad() const { return bad_; }
	void mark_bad() { bad_ = true; }
	// How many connections to this holder came before this one.
	std::uint32_t rejoins = 0;
	bool retired = false; // closed, and replaced by a new connection
	const p2p::SockAddr& address() const { return addr_; }
	// A partial holder's chunks as it said them (kept until the plan exists).
	const std::vector<bool>& have() const { return have_; }
	void set_have(const std::vector<bool>& have) { have_ = have; }
	void learn(std::uint32_t chunk)
	{
		if (chunk < have_.size())
			have_[chunk] = true;
	}
	bool closed() const { return conn_->closed(); }
	std::size_t in_flight() const { return requests_.size(); }
	std::uint64_t bytes() const { return bytes_; }
	const std::string& label() const { return label_; }

private:
	enum class Kind : std::uint8_t { Chunk, Manifest, Stats, Map };
	struct Request {
		Kind kind = Kind::Chunk;
		std::uint32_t id = 0;
		std::uint32_t chunk = 0;
		std::uint64_t offset = 0;
		std::uint32_t length = 0;
		Mode mode = Mode::Write;
		bool spare = false; // sent as CHUNK_REQUEST_SPARE
		bool header_seen = false;
		std::uint32_t got = 0;
		std::vector<std::byte> buf;
	};

	static void timer_cb(evutil_socket_t, short, void* self);
	void on_timer();
	void on_connected();
	void on_message(p2p::Message& msg);
	bool on_chunk_map_reply(Request& head, p2p::Message& msg);
	bool on_taken(const p2p::Error& err);
	void on_have(const p2p::Have& have, bool fetching = false);
	void ask(Kind kind, const p2p::Message& msg);
	void on_raw(std::span<const std::byte> bytes);
	void on_raw_in_file(std::size_t n);
	int raw_sink(std::uint64_t& offset);
	void advance(std::size_t n);
	void on_close(const std::string& reason);
	void arm_timer();
	void finish_head();
	void set_low_water(std::uint32_t bytes);

	Download& owner_;
	ChunkPlan::PeerId id_;
	p2p::SockAddr addr_;
	bool partial_ = false;
	bool map_ready_ = false; // HAVE_MAP received: HAVEs may follow
	bool spare_requests_ = false; // its STATS_REPLY stated kFeatureSpareRequests
	std::vector<bool> have_;
	std::string label_;
	double timeout_;
	bool connected_ = false;
	bool bad_ = false;
	std::uint32_t next_id_ = 1;
	std::uint64_t bytes_ = 0;
	std::uint32_t low_water_ = 1; // SO_RCVLOWAT now set
	std::deque<Request> requests_;
	p2p::EventPtr timer_;
	std::unique_ptr<PeerConn> conn_; // last: freed first
};

} // namespace p2pget
