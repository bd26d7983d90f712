// One file's download; see download.h.
//
// Resume: chunks the sidecar lists are hashed again from disk (on the hash
// pool) before they count. Re-reading costs a local read at hashing speed,
// far less than a fetch, and it means correctness never rests on the
// sidecar: a power loss between recording a chunk and its bytes reaching
// the disk, or a partial file edited by hand, only costs a re-fetch.
#include "download.h"

#include "engine.h"
#include "report.h"
#include "version-choice.h"

#include "p2p/address.h"
#include "p2p/log.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace p2pget {

Download::Download(Engine& engine, std::size_t id, std::string name) : engine_(engine), id_(id)
{
	result_.name = std::move(name);
	started_ = engine_.now();
	wake_timer_.reset(evtimer_new(engine_.base(), wake_cb, this));
}

void Download::wake_cb(evutil_socket_t, short, void* self) { static_cast<Download*>(self)->pump(); }

Download::~Download() = default;

PeerFetch* Download::peer(ChunkPlan::PeerId id)
{
	return id < peers_.size() ? peers_[id].get() : nullptr;
}

std::size_t Download::active_peers() const
{
	return static_cast<std::size_t>(
		std::count_if(peers_.begin(), peers_.end(), [](auto& p) { return p->connected() && p->in_flight() > 0; }));
}

std::uint64_t Download::chunk_offset(std::uint32_t chunk) const
{
	return static_cast<std::uint64_t>(chunk) * chunk_size_;
}

std::uint32_t Download::chunk_length(std::uint32_t chunk) const
{
	return static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk_size_, result_.size - chunk_offset(chunk)));
}

void Download::on_lookup(const p2p::Message* reply, const std::string& error)
{
	if (finished())
		return;
	if (!reply) {
		fail(FileResult::Status::IndexDown, error);
		return;
	}
	if (auto* err = std::get_if<p2p::Error>(reply)) {
		if (err->code == p2p::ErrorCode::NotFound)
			fail(FileResult::Status::Missing, "not in the index");
		else
			fail(FileResult::Status::Failed, std::string("index refused the lookup: ") + err->text);
		return;
	}
	const std::vector<p2p::PeerHolding>* peers = nullptr;
	if (auto* lr = std::get_if<p2p::LookupReply>(reply))
		peers = &lr->peers;
	else if (auto* hr = std::get_if<p2p::HoldersReply>(reply))
		peers = &hr->peers;
	if (!peers) {
		fail(FileResult::Status::IndexDown, "unexpected reply from the index");
		return;
	}
	if (peers->empty()) {
		fail(FileResult::Status::Missing, "not in the index");
		return;
	}
	start(*peers);
}

void Download::on_holders(const p2p::HoldersReply& reply)
{
	if (finished() || result_.peers == 0)
		return;
	for (auto& h : reply.peers) {
		if (h.size != result_.size || h.hash != result_.hash)
			continue;
		auto addr = p2p::to_sockaddr(h.host, h.port);
		// One try per holder and file: a holder we dropped stays dropped.
		bool known = std::any_of(peers_.begin(), peers_.end(),
		                         [&](auto& p) { return p2p::same_endpoint(p->address(), addr); });
		if (engine_.is_self(addr)) {
			found_self(h);
		} else if (!known) {
			engine_.count("holders_joined");
			add_holder(h);
		}
	}
}

void Download::add_holder(const p2p::PeerHolding& holder)
{
	auto addr = p2p::to_sockaddr(holder.host, holder.port);
	ChunkPlan::PeerId id = peers_.size();
	peers_.push_back(std::make_unique<PeerFetch>(engine_.base(), *this, id, addr, engine_.options().timeout,
	                                             engine_.secret(), engine_.peer_buffers(), !holder.complete()));
	if (plan_)
		join_plan(*peers_.back());
}

void Download::found_self(const p2p::PeerHolding& holder)
{
	self_key_ = stripe_key(holder.host, holder.port);
	if (plan_)
		plan_->set_self_key(self_key_);
}

// A partial holder joins knowing nothing until its map comes.
void Download::join_plan(PeerFetch& p)
{
	if (p.partial())
		plan_->add_peer(std::vector<bool>(plan_->chunk_count(), false),
		                stripe_key(p2p::ip_bytes(p.address().get()), p2p::port_of(p.address().get())));
	else
		plan_->add_peer();
	if (p.closed())
		plan_->drop_peer(p.id());
}

void Download::on_have_map(PeerFetch& p, const std::vector<bool>& have)
{
	if (finished())
		return;
	if (have.size() != p2p::chunk_count(result_.size, p2p::kChunkSize)) {
		bad_peer(p, "sent a chunk map of another size");
		return;
	}
	p.set_have(have);
	if (plan_ && plan_->peer_live(p.id()))
		for (std::uint32_t c = 0; c < have.size(); c++)
			if (have[c])
				plan_->peer_has(p.id(), c);
}

void Download::on_have(PeerFetch& p, std::uint32_t chunk)
{
	if (finished())
		return;
	if (chunk >= p2p::chunk_count(result_.size, p2p::kChunkSize)) {
		bad_peer(p, "announced a chunk beyond the end");
		return;
	}
	log_debug("%s: %s has chunk %u", result_.name.c_str(), p.label().c_str(), chunk);
	p.learn(chunk);
	if (plan_ && plan_->peer_live(p.id())) {
		plan_->peer_has(p.id(), chunk);
		pump();
	}
}

// It will have the chunk soon: a seed need not send it to us too.
void Download::on_fetching(PeerFetch& p, std::uint32_t chunk)
{
	if (finished() || chunk >= p2p::chunk_count(result_.size, p2p::kChunkSize)) {
		if (!finished())
			bad_peer(p, "announced a chunk beyond the end");
		return;
	}
	log_debug("%s: %s fetches chunk %u", result_.name.c_str(), p.label().c_str(), chunk);
	if (plan_)
		plan_->claim(p.id(), chunk, engine_.now() + engine_.options().timeout);
}

void Download::on_chunk_taken(PeerFetch& p, std::uint32_t chunk)
{
	if (finished() || !plan_)
		return;
	log_debug("%s: chunk %u went from %s to another downloader", result_.name.c_str(), chunk, p.label().c_str());
	engine_.count("chunks_taken");
	plan_->taken(p.id(), chunk, engine_.now() + p2p::kSpareWindow);
}

void Download::start(const std::vector<p2p::PeerHolding>& holders)
{
	auto choice = p2pget::choose_version(holders);
	result_.versions = choice.versions;
	result_.size = choice.size;
	result_.hash = choice.hash;
	result_.peers = choice.holders.size();
	if (choice.versions > 1)
		engine_.note("%s: %zu versions in the index; taking the one %zu of %zu peers hold (%llu bytes, %.16s)",
		             result_.name.c_str(), choice.versions, choice.holders.size(), holders.size(),
		             static_cast<unsigned long long>(result_.size), p2p::to_hex(result_.hash).c_str());

	auto room = PartialFile::room_for(engine_.options().out_dir, result_.name, result_.size);
	if (!room.enough()) {
		// Refused before anything is created or asked of a peer.
		fail(FileResult::Status::Failed, "needs " + human_bytes(static_cast<double>(room.need)) + ", " +
		                                     human_bytes(static_cast<double>(room.free)) + " free on " +
		                                     room.on.string());
		return;
	}
	if (result_.size == 0) {
		// Nothing to fetch: the hash alone says whether the index is sane.
		if (result_.hash != p2p::hash_bytes(nullptr, 0)) {
			fail(FileResult::Status::Failed, "the index lists an empty file with a non-empty hash");
			return;
		}
		chunk_size_ = p2p::kChunkSize;
		manifest_complete();
		return;
	}
	for (auto& holder : choice.holders) {
		if (engine_.is_self(p2p::to_sockaddr(holder.host, holder.port)))
			found_self(holder);
		else
			add_holder(holder);
	}
}

void Download::on_peer_connected(PeerFetch& p)
{
	log_debug("%s: connected to %s", result_.name.c_str(), p.label().c_str());
	if (!manifest_ready_)
		ask_manifest();
	else
		pump();
}

void Download::ask_manifest()
{
	if (manifest_peer_ || finished())
		return;
	for (auto& p : peers_) {
		if (p->connected()) {
			manifest_peer_ = p.get();
			p->request_manifest(result_.name, static_cast<std::uint32_t>(chunk_hashes_.size()));
			return;
		}
	}
}

void Download::bad_peer(PeerFetch& p, const std::string& why)
{
	result_.bad_chunks++;
	p.mark_bad();
	engine_.note("%s: %s %s; not using it again for this file", result_.name.c_str(), p.label().c_str(),
	             why.c_str());
	engine_.count("bad_data");
	p.close(why);
}

void Download::on_manifest(PeerFetch& p, const p2p::Manifest& m)
{
	if (finished())
		return;
	std::uint32_t expect_count = chunk_hashes_.empty() ? 0 : p2p::chunk_count(result_.size, chunk_size_);
	bool ok = m.name == result_.name && m.size == result_.size && m.content_hash == result_.hash &&
	          m.chunk_size > 0 && m.chunk_size <= p2p::kMaxChunkLength &&
	          m.chunk_count == p2p::chunk_count(m.size, m.chunk_size) &&
	          m.first_chunk == chunk_hashes_.size() && !m.chunk_hashes.empty() &&
	          m.chunk_hashes.size() <= m.chunk_count - m.first_chunk &&
	          (chunk_hashes_.empty() || (m.chunk_size == chunk_size_ && m.chunk_count == expect_count));
	if (!ok) {
		manifest_peer_ = nullptr;
		bad_peer(p, "sent a manifest that does not match the index");
		return;
	}
	chunk_size_ = m.chunk_size;
	chunk_hashes_.insert(chunk_hashes_.end(), m.chunk_hashes.begin(), m.chunk_hashes.end());
	if (chunk_hashes_.size() < m.chunk_count) {
		p.request_manifest(result_.name, static_cast<std::uint32_t>(chunk_hashes_.size()));
		return;
	}
	manifest_peer_ = nullptr;
	if (p2p::content_hash(chunk_hashes_) != result_.hash) {
		chunk_hashes_.clear();
		bad_peer(p, "sent chunk hashes that do not add up to the content hash");
		return;
	}
	manifest_complete();
}

void Download::manifest_complete()
{
	std::string error;
	auto pf = PartialFile::open(engine_.options().out_dir, result_.name, result_.size, chunk_size_, result_.hash, error);
	if (!pf) {
		fail(FileResult::Status::Failed, error);
		return;
	}
	file_ = std::move(pf);
	manifest_ready_ = true;
	if (auto* o = engine_.observer())
		o->manifest_ready(*this);
	// Seeded: downloaders started together take different chunks first.
	plan_.emplace(p2p::chunk_count(result_.size, chunk_size_), 2, &engine_.dup_budget(), engine_.random());
	plan_->set_spare_seeds(true);
	plan_->set_self_key(self_key_);
	for (auto& p : peers_) {
		join_plan(*p);
		if (p->partial() && plan_->peer_live(p->id()))
			for (std::uint32_t c = 0; c < p->have().size(); c++)
				if (p->have()[c])
					plan_->peer_has(p->id(), c);
	}
	// Chunks already on disk, in the partial file or in an older copy at
	// the output path, are checked there before anyone is asked for them.
	for (std::uint32_t c = 0; c < plan_->chunk_count(); c++) {
		bool resumed = file_->recorded()[c];
		if (resumed || file_->seed_covers(chunk_offset(c), chunk_length(c))) {
			plan_->hold(c);
			local_checks_++;
			engine_.pool().submit(
				{file_, chunk_offset(c), chunk_length(c), chunk_hashes_[c], id_, c, kLocal, !resumed});
		}
	}
	pump();
}

bool Download::write_chunk_bytes(const void* data, std::size_t len, std::uint64_t offset)
{
	if (file_->write(data, len, offset))
		return true;
	int err = errno;
	fail(FileResult::Status::Failed, "writing " + file_->partial_path().string() + ": " + std::strerror(err));
	errno = err;
	return false;
}

void Download::on_bytes(std::size_t n)
{
	result_.fetched += n;
	engine_.on_bytes(n);
}

void Download::on_chunk_written(PeerFetch& p, std::uint32_t chunk)
{
	if (finished())
		return;
	plan_->received(p.id(), chunk, engine_.now());
	engine_.pool().submit({file_, chunk_offset(chunk), chunk_length(chunk), chunk_hashes_[chunk], id_, chunk, p.id()});
}

void Download::on_chunk_buffered(PeerFetch& p, std::uint32_t chunk, const std::vector<std::byte>& bytes)
{
	if (finished() || plan_->is_done(chunk))
		return;
	if (p2p::hash_bytes(bytes) != chunk_hashes_[chunk]) {
		if (plan_->peer_live(p.id()))
			bad_peer(p, "sent a chunk that does not match its hash");
		return;
	}
	if (settle(p.id(), chunk, &bytes))
		check_progress();
}

// Verified: the other copies stop (a writer among them before the buffered
// bytes take its place), the sidecar records the chunk, and it counts.
bool Download::settle(ChunkPlan::PeerId winner, std::uint32_t chunk, const std::vector<std::byte>* buffered)
{
	auto others = plan_->verified(winner, chunk);
	if (!others)
		return false;
	for (auto o : *others)
		if (auto* q = peer(o))
			q->discard(chunk);
	if (buffered) {
		if (!write_chunk_bytes(buffered->data(), buffered->size(), chunk_offset(chunk)))
			return false;
		engine_.count("endgame_wins");
	}
	if (!record_verified(chunk))
		return false;
	log_debug("%s: chunk %u verified, from %s", result_.name.c_str(), chunk,
	          peer(winner) ? peer(winner)->label().c_str() : "?");
	done_bytes_ += chunk_length(chunk);
	if (auto* o = engine_.observer())
		o->chunk_verified(*this, chunk);
	return true;
}

void Download::on_verified(const VerifyResult& r)
{
	if (finished())
		return;
	if (r.read_errno != 0) {
		fail(FileResult::Status::Failed,
		     "reading back " + file_->partial_path().string() + ": " + std::strerror(r.read_errno));
		return;
	}
	if (r.peer == kLocal) {
		local_checks_--;
		if (r.ok) {
			// A seed chunk is recorded now, so an interruption keeps it.
			if (!file_->recorded()[r.chunk] && !record_verified(r.chunk))
				return;
			plan_->done(r.chunk);
			result_.resumed += chunk_length(r.chunk);
			done_bytes_ += chunk_length(r.chunk);
			if (auto* o = engine_.observer())
				o->chunk_verified(*this, r.chunk);
		} else {
			plan_->release(r.chunk);
		}
		pump();
		return;
	}
	if (!r.ok) {
		// Stale verdicts (the chunk was re-queued or won elsewhere since)
		// say nothing about the peer.
		if (!plan_->writing(r.peer, r.chunk))
			return;
		plan_->failed(r.peer, r.chunk);
		if (auto* p = peer(r.peer); p && plan_->peer_live(r.peer))
			bad_peer(*p, "sent a chunk that does not match its hash");
		pump();
		return;
	}
	if (settle(r.peer, r.chunk, nullptr))
		pump();
}

bool Download::record_verified(std::uint32_t chunk)
{
	if (file_->mark_verified(chunk))
		return true;
	fail(FileResult::Status::Failed, "writing the sidecar of " + file_->partial_path().string() + ": " +
	                                     std::strerror(errno));
	return false;
}

void Download::on_peer_closed(PeerFetch& p, const std::string& reason, bool bad_data)
{
	if (manifest_peer_ == &p)
		manifest_peer_ = nullptr;
	if (finished())
		return;
	log_info("%s: %s: %s", result_.name.c_str(), p.label().c_str(), reason.c_str());
	if (bad_data) {
		result_.bad_chunks++;
		engine_.count("bad_data");
	}
	last_peer_error_ = p.label() + ": " + reason;
	engine_.count("peers_dropped");
	if (plan_)
		plan_->drop_peer(p.id());
	if (!manifest_ready_) {
		ask_manifest();
		bool any = std::any_of(peers_.begin(), peers_.end(), [](auto& q) { return !q->closed(); });
		if (!any)
			fail(FileResult::Status::Failed, "no peer could send the manifest (last: " + last_peer_error_ + ")");
		return;
	}
	pump();
}

// Fills every connected peer's pipeline from the plan, one request per
// peer per round, so the first requests of a file spread over all peers
// instead of the first peer taking a whole small file.
void Download::pump()
{
	if (finished() || !plan_)
		return;
	double now = engine_.now();
	bool waiting = false; // an idle peer found nothing old enough to copy
	for (std::size_t depth = 1; depth <= engine_.options().depth; depth++) {
		for (auto& p : peers_) {
			if (!p->connected() || !plan_->peer_live(p->id()) || p->in_flight() >= std::min(depth, depth_for(*p, now)))
				continue;
			bool idle = p->in_flight() == 0;
			auto a = plan_->assign(p->id(), now, idle);
			if (!a) {
				waiting = waiting || (idle && plan_->endgame());
				continue;
			}
			auto mode = PeerFetch::Mode::Write;
			if (a->mode == ChunkPlan::Mode::Buffer) {
				mode = PeerFetch::Mode::Buffer;
				engine_.count("endgame_requests");
			}
			p->request_chunk(result_.name, result_.hash, a->chunk, chunk_offset(a->chunk), chunk_length(a->chunk),
			                 mode, a->spare);
			log_debug("%s: chunk %u asked of %s (%s%s)", result_.name.c_str(), a->chunk, p->label().c_str(),
			          plan_->peer_seed(p->id()) ? "seed" : "downloader", a->mode == ChunkPlan::Mode::Buffer ? ", copy" : "");
			if (plan_->peer_seed(p->id()))
				engine_.fetching(*this, a->chunk);
		}
	}
	if (auto at = waiting ? std::optional<double>(now + kCopyPoll) : plan_->wake_at(now))
		wake_at(now, *at);
	check_progress();
}

// Re-plans at `at`, unless the timer is set for sooner: nothing else may
// come to wake us (a claimer frozen, say).
void Download::wake_at(double now, double at)
{
	if (evtimer_pending(wake_timer_.get(), nullptr) && wake_at_ <= at && wake_at_ > now)
		return;
	wake_at_ = at;
	timeval tv = p2p::to_timeval(at - now);
	evtimer_add(wake_timer_.get(), &tv);
}

// A seed shared with other downloaders gets one request at a time from
// each: its upload is the swarm's scarce link, and a chunk it sends alone
// reaches the others sooner than many it sends side by side. So too in the
// first moments, before the index has listed the downloaders started with us.
std::size_t Download::depth_for(const PeerFetch& p, double now) const
{
	bool shared_seed = plan_->peer_seed(p.id()) &&
	                   (plan_->downloaders_live() > 0 || (engine_.swarming() && now - started_ < kFirstLookups));
	return shared_seed ? 1 : engine_.options().depth;
}

void Download::check_progress()
{
	if (finished() || !plan_)
		return;
	result_.retries = plan_->retries();
	result_.duplicates = plan_->duplicates();
	if (plan_->complete()) {
		succeed();
		return;
	}
	if (plan_->starved() && local_checks_ == 0 && !rejoin_holders())
		fail(FileResult::Status::Failed, "some chunks could not be had from any peer (last: " + last_peer_error_ + ")");
}

// Starved: holders that only timed out or closed (never sent bad data) get
// another connection, a few times each, before the file is given up; a
// seed behind a congested link may be slow, not gone.
bool Download::rejoin_holders()
{
	std::vector<std::pair<p2p::PeerHolding, std::uint32_t>> again;
	for (auto& p : peers_) {
		if (!p->closed() || p->bad() || p->rejoins >= kMaxRejoins || p->retired)
			continue;
		p->retired = true; // this connection's turn is over
		p2p::PeerHolding h{p2p::ip_bytes(p->address().get()), p2p::port_of(p->address().get()), result_.size,
		                   result_.hash, p->partial() ? 0u : p2p::kCompleteHolding};
		again.emplace_back(h, p->rejoins + 1);
	}
	for (auto& [holding, rejoins] : again) {
		log_info("%s: connecting to %s again", result_.name.c_str(), p2p::format_endpoint(holding.host, holding.port).c_str());
		engine_.count("holders_rejoined");
		add_holder(holding);
		peers_.back()->rejoins = rejoins;
	}
	return !again.empty();
}

void Download::close_peers()
{
	evtimer_del(wake_timer_.get());
	for (auto& p : peers_) {
		if (!p->closed())
			p->close("download over");
		// Its copies end here: their budget goes back to the other downloads.
		if (plan_)
			plan_->drop_peer(p->id());
	}
}

void Download::succeed()
{
	std::string error;
	if (!file_->finish(error)) {
		fail(FileResult::Status::Failed, error);
		return;
	}
	result_.status = FileResult::Status::Ok;
	result_.seconds = engine_.now() - started_;
	if (auto* o = engine_.observer())
		o->file_finished(*this);
	collect_peer_bytes();
	close_peers();
	engine_.finished(*this);
}

// One entry per holder, however many connections it took.
void Download::collect_peer_bytes()
{
	for (auto& p : peers_) {
		auto same = std::find_if(result_.peer_bytes.begin(), result_.peer_bytes.end(),
		                         [&](auto& e) { return e.first == p->label(); });
		if (same != result_.peer_bytes.end())
			same->second += p->bytes();
		else
			result_.peer_bytes.emplace_back(p->label(), p->bytes());
	}
}

void Download::fail(FileResult::Status status, const std::string& error)
{
	if (finished())
		return;
	result_.status = status;
	result_.error = error;
	result_.seconds = engine_.now() - started_;
	if (auto* o = engine_.observer())
		o->file_failed(*this);
	if (plan_) {
		result_.retries = plan_->retries();
		result_.duplicates = plan_->duplicates();
	}
	collect_peer_bytes();
	close_peers();
	engine_.finished(*this);
}

} // namespace p2pget
