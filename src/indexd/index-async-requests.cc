// The requests an asynchronous store (Redis) answers later: each takes a
// slot at once, so replies keep the order of their requests, and fills it
// from the store's callback. A store that is away or has too many requests
// waiting is answered at once with error unavailable or busy.
#include "index-session.h"

#include "async-store.h"
#include "index-server.h"
#include "wire-fast.h"

#include "p2p/address.h"
#include "p2p/log.h"

namespace indexd {

bool IndexSession::refuse_async()
{
	p2p::ErrorCode e = server_.store().async()->refusal();
	if (e == p2p::ErrorCode::None)
		return false;
	Counters& c = server_.counters();
	if (e == p2p::ErrorCode::Busy) {
		c.busy++;
		reply(p2p::Error{e, 0, "too many requests waiting for the store; try again"});
	} else {
		c.unavailable++;
		reply(p2p::Error{e, 0, "the index's store (" + server_.store().async()->where() + ") is unavailable"});
	}
	return true;
}

IndexSession::Slot* IndexSession::open_slot() { return &slots_.emplace_back(); }

void IndexSession::fill(Slot* slot, const p2p::Message& msg)
{
	std::vector<std::byte> frame;
	p2p::encode(msg, frame);
	fill(slot, std::move(frame));
}

// Ready replies at the front join the batch, sealed in their order. The
// batch goes out once the reactor is done with this round (one read of
// Redis's replies fills many slots): one send for all of them, not one
// each, which cost indexd most of its time.
void IndexSession::fill(Slot* slot, std::vector<std::byte> frame)
{
	slot->frame = std::move(frame);
	slot->ready = true;
	bool any = false;
	while (!slots_.empty() && slots_.front().ready) {
		std::size_t start = out_.size();
		out_.insert(out_.end(), slots_.front().frame.begin(), slots_.front().frame.end());
		seal(start);
		slots_.pop_front();
		any = true;
	}
	if (any)
		drain_.schedule();
}

void IndexSession::drain()
{
	if (closed_)
		return;
	flush();
	slots_drained();
}

void IndexSession::slots_drained()
{
	if (closed_)
		return;
	if (closing_) {
		if (!slots_.empty())
			return;
		if (evbuffer_get_length(outq_.get()) == 0)
			close(fail_reason_);
		else
			arm_write();
		return;
	}
	if (slot_paused_ && slots_.size() < kMaxSlots / 2) {
		slot_paused_ = false;
		if (!paused_)
			event_add(read_ev_.get(), nullptr);
		process_input(); // frames may already be waiting
	}
}

void IndexSession::stats_async()
{
	if (refuse_async())
		return;
	Slot* slot = open_slot();
	auto done = [slot](IndexSession& s, p2p::ErrorCode) { s.fill(slot, s.server_.stats_reply()); };
	server_.store().async()->refresh_stats(on_live(self_, std::move(done)));
}

void IndexSession::lookup_async(std::string_view name, bool partial)
{
	if (refuse_async())
		return;
	Slot* slot = open_slot();
	std::string n(name);
	auto done = [slot, n, partial](IndexSession& s, p2p::ErrorCode e, std::vector<p2p::PeerHolding>& peers) {
		if (e != p2p::ErrorCode::None) {
			s.server_.counters().unavailable++;
			s.fill(slot, p2p::Error{e, 0, "the index's store is unavailable"});
			return;
		}
		if (peers.empty())
			s.server_.counters().lookup_misses++;
		if (partial) {
			s.fill(slot, p2p::HoldersReply{n, std::move(peers)});
			return;
		}
		std::vector<std::byte> frame;
		append_lookup_reply(frame, n, peers);
		s.fill(slot, std::move(frame));
	};
	server_.store().async()->lookup(name, p2p::kMaxLookupPeers, partial, on_live(self_, std::move(done)));
}

void IndexSession::list_async(const p2p::List& m)
{
	if (refuse_async())
		return;
	Slot* slot = open_slot();
	auto done = [slot](IndexSession& s, p2p::ErrorCode e, p2p::ListReply& page) {
		if (e != p2p::ErrorCode::None)
			s.fill(slot, p2p::Error{e, 0, "the index's store is unavailable"});
		else
			s.fill(slot, page);
	};
	server_.store().async()->list(m.after, m.limit, p2p::kMaxPayload, on_live(self_, std::move(done)));
}

// The id is ours at once and the session counts as registered, so that
// the updates right behind the REGISTER reach the store after it.
void IndexSession::register_async(p2p::Register& m, bool signed_reg)
{
	if (refuse_async())
		return;
	Slot* slot = open_slot();
	std::string key;
	if (signed_reg)
		key.assign(reinterpret_cast<const char*>(pending_.public_key.data()), pending_.public_key.size());
	std::size_t files = m.files.size();
	auto done = [slot, files, signed_reg](IndexSession& s, PeerId id, p2p::ErrorCode e,
	                                      std::optional<PeerId> replaced) {
		s.registered_async(slot, id, files, signed_reg, e, replaced);
	};
	PeerId id = server_.store().async()->add({host_, m.port}, key, m.files, server_.now(),
	                                          on_live(self_, std::move(done)));
	registered_ = true;
	peer_ = id;
	port_ = m.port;
	if (signed_reg) {
		bound_ = true;
		key_ = pending_.public_key;
	}
	server_.peer_registered(peer_, this);
}

void IndexSession::registered_async(Slot* slot, PeerId id, std::size_t files, bool signed_reg, p2p::ErrorCode e,
                                    std::optional<PeerId> replaced)
{
	Counters& c = server_.counters();
	bool current = registered_ && peer_ == id; // not re-registered since
	std::string peer = p2p::format_endpoint(host_, port_);
	if (e != p2p::ErrorCode::None) {
		if (current) {
			registered_ = bound_ = false;
			server_.peer_gone(id);
		}
		if (e == p2p::ErrorCode::AddressInUse) {
			c.refused++;
			log_info("%s: register as %s refused: held by another live connection", name_.c_str(), peer.c_str());
			fill(slot, p2p::Error{e, 0, peer + " is registered by another live connection"});
		} else {
			c.unavailable++;
			fill(slot, p2p::Error{e, 0, "the index's store is unavailable"});
		}
		return;
	}
	if (replaced)
		server_.replaced_by(*replaced, *this, {host_, port_});
	c.registers++;
	if (signed_reg)
		c.signed_registers++;
	log_info("%s: peer %s registered with %zu files%s", name_.c_str(), peer.c_str(), files,
	         signed_reg ? ", signed" : "");
	fill(slot, p2p::Ok{p2p::MsgType::Register});
}

void IndexSession::update_async(p2p::Update& m)
{
	if (refuse_async())
		return;
	server_.counters().updates++;
	server_.store().async()->update(peer_, m.added, m.removed, server_.now(),
	                                on_live(self_, acked_as(open_slot(), p2p::MsgType::Update)));
}

// The answer to UPDATE or UPDATE_PARTIAL once the store has it.
std::function<void(IndexSession&, p2p::ErrorCode)> IndexSession::acked_as(Slot* slot, p2p::MsgType type)
{
	return [slot, type](IndexSession& s, p2p::ErrorCode e) {
		if (e == p2p::ErrorCode::None)
			s.fill(slot, p2p::Ok{type});
		else
			s.fill(slot, p2p::Error{e, 0, e == p2p::ErrorCode::NotRegistered ? "registration taken over"
			                                                                  : "the index's store is unavailable"});
	};
}

void IndexSession::update_partial_async(p2p::UpdatePartial& m)
{
	if (refuse_async())
		return;
	server_.counters().partial_updates++;
	server_.store().async()->update_partial(peer_, m.entries, server_.now(),
	                                        on_live(self_, acked_as(open_slot(), p2p::MsgType::UpdatePartial)));
}

} // namespace indexd
