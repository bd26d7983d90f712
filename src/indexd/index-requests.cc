// What an indexd session does with each request other than a lookup:
// registration (signed or not, with the same-key takeover rule), updates,
// unregistration, list, stats and ping.
#include "index-session.h"

#include "async-store.h"
#include "index-server.h"

#include "p2p/address.h"
#include "p2p/identity.h"
#include "p2p/log.h"

namespace indexd {

void IndexSession::handle_message(p2p::Message& msg)
{
	Counters& c = server_.counters();
	if (auto* m = std::get_if<p2p::Register>(&msg)) {
		on_register(*m);
	} else if (auto* m = std::get_if<p2p::Update>(&msg)) {
		on_update(*m);
	} else if (auto* m = std::get_if<p2p::UpdatePartial>(&msg)) {
		on_update_partial(*m);
	} else if (auto* m = std::get_if<p2p::LookupHolders>(&msg)) {
		c.holder_lookups++;
		if (server_.store().async()) {
			lookup_async(m->name, true);
			return;
		}
		p2p::HoldersReply r{m->name, {}};
		server_.store().lookup(m->name, r.peers, p2p::kMaxLookupPeers, true);
		reply(r);
	} else if (std::holds_alternative<p2p::Unregister>(msg)) {
		on_unregister();
	} else if (auto* m = std::get_if<p2p::List>(&msg)) {
		c.lists++;
		if (server_.store().async()) {
			list_async(*m);
			return;
		}
		// The page must fit one frame, whatever the names' lengths.
		reply(server_.store().list(m->after, m->limit, p2p::kMaxPayload));
	} else if (std::holds_alternative<p2p::Stats>(msg)) {
		c.stats++;
		if (server_.store().async()) {
			stats_async(); // the counts are Redis's, read now
			return;
		}
		reply(server_.stats_reply());
	} else if (std::holds_alternative<p2p::Hello>(msg)) {
		on_hello();
	} else if (auto* m = std::get_if<p2p::Identify>(&msg)) {
		on_identify(*m);
	} else if (std::holds_alternative<p2p::Pong>(msg)) {
		// Heard from: that is all a pong means here.
	} else {
		bad_frame(p2p::ErrorCode::UnknownType,
		          (std::string(p2p::msg_type_name(p2p::type_of(msg))) + " is not a message for the index").c_str());
	}
}

void IndexSession::on_hello()
{
	// A fresh nonce for each HELLO; a second HELLO replaces the first.
	nonce_ = p2p::make_nonce();
	challenged_ = true;
	reply(p2p::Challenge{nonce_});
}

void IndexSession::on_identify(const p2p::Identify& m)
{
	if (!challenged_) {
		bad_signature("IDENTIFY without a CHALLENGE before it");
		return;
	}
	// The nonce is good for this one IDENTIFY; the REGISTER that must come
	// next is checked against it.
	challenged_ = false;
	identified_ = true;
	pending_ = m;
}

void IndexSession::on_register(p2p::Register& m)
{
	Counters& c = server_.counters();
	bool signed_reg = identified_;
	if (identified_) {
		identified_ = false;
		if (!p2p::verify_registration(pending_.public_key, pending_.signature, nonce_, m)) {
			bad_signature("REGISTER signature does not verify");
			return;
		}
	}
	if (registered_) {
		// A second REGISTER on the same connection starts over.
		server_.peer_gone(peer_);
		registered_ = false;
	}
	bound_ = false;
	if (server_.store().async()) {
		register_async(m, signed_reg);
		return;
	}
	PeerKey key{host_, m.port};
	AddResult r = server_.store().add(key, m.files, server_.now());
	std::string peer = p2p::format_endpoint(host_, m.port);
	// The same key may replace its own live session at once: a peer
	// restarted after a crash need not wait for the TTL.
	if (r.error == p2p::ErrorCode::AddressInUse && signed_reg &&
	    server_.take_over(key, pending_.public_key, *this))
		r = server_.store().add(key, m.files, server_.now());
	if (r.error == p2p::ErrorCode::AddressInUse) {
		c.refused++;
		log_info("%s: register as %s refused: held by another live connection", name_.c_str(), peer.c_str());
		reply(p2p::Error{r.error, 0, peer + " is registered by another live connection"});
		return;
	}
	if (r.error != p2p::ErrorCode::None) {
		c.busy++;
		log_warn("%s: register as %s refused: more than the per-peer file limit", name_.c_str(), peer.c_str());
		reply(p2p::Error{r.error, 0, "too many files for one peer"});
		return;
	}
	registered_ = true;
	peer_ = r.id;
	port_ = m.port;
	if (signed_reg) {
		bound_ = true;
		key_ = pending_.public_key;
		c.signed_registers++;
	}
	server_.peer_registered(peer_, this);
	c.registers++;
	log_info("%s: peer %s registered with %zu files%s", name_.c_str(), peer.c_str(), m.files.size(),
	         signed_reg ? ", signed" : "");
	reply(p2p::Ok{p2p::MsgType::Register});
}

bool IndexSession::refuse_unregistered()
{
	if (registered_)
		return false;
	server_.counters().not_registered++;
	reply(p2p::Error{p2p::ErrorCode::NotRegistered, 0, "update before register"});
	return true;
}

void IndexSession::on_update(p2p::Update& m)
{
	Counters& c = server_.counters();
	if (refuse_unregistered())
		return;
	if (server_.store().async()) {
		update_async(m);
		return;
	}
	p2p::ErrorCode e = server_.store().update(peer_, m.added, m.removed, server_.now());
	if (e != p2p::ErrorCode::None) {
		c.busy++;
		log_warn("%s: update stopped at the per-peer file limit", name_.c_str());
		reply(p2p::Error{e, 0, "too many files for one peer"});
		return;
	}
	c.updates++;
	log_debug("%s: update: %zu added, %zu removed", name_.c_str(), m.added.size(), m.removed.size());
	reply(p2p::Ok{p2p::MsgType::Update});
}

void IndexSession::on_update_partial(p2p::UpdatePartial& m)
{
	Counters& c = server_.counters();
	if (refuse_unregistered())
		return;
	if (server_.store().async()) {
		update_partial_async(m);
		return;
	}
	p2p::ErrorCode e = server_.store().update_partial(peer_, m.entries, server_.now());
	if (e != p2p::ErrorCode::None) {
		c.busy++;
		log_warn("%s: partial update stopped at the per-peer file limit", name_.c_str());
		reply(p2p::Error{e, 0, "too many files for one peer"});
		return;
	}
	c.partial_updates++;
	log_debug("%s: partial update: %zu files", name_.c_str(), m.entries.size());
	reply(p2p::Ok{p2p::MsgType::UpdatePartial});
}

void IndexSession::on_unregister()
{
	// Idempotent: "not registered" is what the sender wants either way.
	if (registered_) {
		server_.counters().unregisters++;
		log_info("%s: peer %s unregistered", name_.c_str(), p2p::format_endpoint(host_, port_).c_str());
		server_.peer_gone(peer_);
		registered_ = false;
	}
	// In Redis the Ok waits for a read queued behind the removal on the same
	// link, so that every indexd agrees by the time the peer has it. When
	// Redis is away the TTL removes the peer there; the Ok goes out at once.
	if (auto* async = server_.store().async(); async && async->refusal() == p2p::ErrorCode::None) {
		Slot* slot = open_slot();
		auto done = [slot](IndexSession& s, p2p::ErrorCode) { s.fill(slot, p2p::Ok{p2p::MsgType::Unregister}); };
		async->refresh_stats(on_live(self_, std::move(done)));
		return;
	}
	reply(p2p::Ok{p2p::MsgType::Unregister});
}

} // namespace indexd
