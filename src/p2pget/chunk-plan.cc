// The chunk plan: see chunk-plan.h.
//
// Every queued chunk is in levels_[avail_[chunk]] (by rank), and those put
// back are in front_ too, newest first. Complete holders count the same for
// every chunk, so availability is ordered by avail_ (partial holders) alone
// and a complete holder coming or going changes no level.
#include "chunk-plan.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace p2pget {

// SplitMix64: a small, fast, well-mixed generator; the same sequence for a
// seed on every platform (std::shuffle's algorithm is not specified).
static std::uint64_t splitmix64(std::uint64_t& state)
{
	std::uint64_t z = (state += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

ChunkPlan::ChunkPlan(std::uint32_t chunk_count, std::uint32_t max_copies, DupBudget* budget,
                     std::optional<std::uint64_t> seed)
	: states_(chunk_count, State::Queued), rank_(chunk_count), chunk_at_(chunk_count), avail_(chunk_count, 0),
	  stamp_(chunk_count, 0), max_copies_(std::max<std::uint32_t>(1, max_copies)), budget_(budget),
	  queued_count_(chunk_count)
{
	std::iota(chunk_at_.begin(), chunk_at_.end(), 0u);
	if (seed) {
		std::uint64_t state = *seed;
		for (std::uint32_t i = chunk_count; i > 1; i--)
			std::swap(chunk_at_[i - 1], chunk_at_[splitmix64(state) % i]);
	}
	for (std::uint32_t r = 0; r < chunk_count; r++)
		rank_[chunk_at_[r]] = r;
	levels_.emplace_back(chunk_count, true);
}

ChunkPlan::~ChunkPlan()
{
	for (auto& [chunk, list] : flights_)
		for (auto& c : list)
			if (c.mode == Mode::Buffer && budget_)
				budget_->free++;
}

ChunkPlan::PeerId ChunkPlan::add_peer()
{
	peers_.push_back(Peer{});
	complete_live_++;
	return peers_.size() - 1;
}

ChunkPlan::PeerId ChunkPlan::add_peer(const std::vector<bool>& have, std::uint64_t key)
{
	if (have.size() != states_.size())
		throw std::invalid_argument("ChunkPlan::add_peer: bitfield of the wrong size");
	downloaders_live_++;
	if (stripes_ && key != 0)
		stripes_->add(key);
	if (std::all_of(have.begin(), have.end(), [](bool b) { return b; })) {
		PeerId id = add_peer();
		peers_[id].seed = false;
		peers_[id].key = key;
		complete_downloaders_++;
		return id;
	}
	Peer p;
	p.complete = false;
	p.seed = false;
	p.key = key;
	p.have = ChunkSet(chunk_count());
	peers_.push_back(std::move(p));
	for (std::uint32_t c = 0; c < have.size(); c++)
		if (have[c])
			learn(peers_.back(), c);
	return peers_.size() - 1;
}

void ChunkPlan::peer_has(PeerId peer, std::uint32_t chunk)
{
	if (chunk >= chunk_count())
		throw std::out_of_range("ChunkPlan::peer_has: no such chunk");
	if (peer_live(peer) && !peers_[peer].complete)
		learn(peers_[peer], chunk);
	auto it = claims_.find(chunk);
	if (it != claims_.end() && (it->second.peer == peer || it->second.peer == kSomeone))
		unclaim(chunk);
}

void ChunkPlan::set_self_key(std::uint64_t key)
{
	if (stripes_ || key == 0)
		return;
	stripes_.emplace(chunk_at_, key);
	for (auto& p : peers_)
		if (p.live && !p.seed && p.key != 0)
			stripes_->add(p.key);
}

void ChunkPlan::claim(PeerId peer, std::uint32_t chunk, double until)
{
	if (chunk >= chunk_count() || !peer_live(peer) || holds(peer, chunk))
		return;
	auto [it, fresh] = claims_.try_emplace(chunk, Claim{peer, until});
	if (!fresh) {
		it->second.until = std::max(it->second.until, until);
		return;
	}
	shift(chunk, +1);
}

void ChunkPlan::unclaim(std::uint32_t chunk)
{
	claims_.erase(chunk);
	shift(chunk, -1);
}

void ChunkPlan::expire_claims(double now)
{
	for (auto it = claims_.begin(); it != claims_.end();) {
		auto chunk = it->first;
		bool over = it->second.until <= now;
		++it;
		if (over)
			unclaim(chunk);
	}
}

std::optional<double> ChunkPlan::wake_at(double now) const
{
	std::optional<double> at;
	auto consider = [&](double t) {
		if (t > now && (!at || t < *at))
			at = t;
	};
	for (auto& [chunk, c] : claims_)
		consider(c.until);
	if (stripe_waiting_ && idle_since_)
		consider(*idle_since_ + kStripePatience);
	return at;
}

void ChunkPlan::learn(Peer& p, std::uint32_t chunk)
{
	if (p.have.contains(rank_[chunk]))
		return;
	p.have.insert(rank_[chunk]);
	shift(chunk, +1);
	if (p.have.size() == chunk_count())
		promote(p);
}

// A partial holder that has every chunk now counts as complete: the fast
// path for next(), and no bitfield to keep.
void ChunkPlan::promote(Peer& p)
{
	p.have.for_each([&](std::uint32_t r) { shift(chunk_at_[r], -1); });
	p.have = ChunkSet();
	p.complete = true;
	complete_live_++;
	if (!p.seed)
		complete_downloaders_++;
}

// `chunk` has `by` more live partial holders; a queued chunk changes level.
void ChunkPlan::shift(std::uint32_t chunk, int by)
{
	bool queued = states_[chunk] == State::Queued;
	if (queued)
		levels_[avail_[chunk]].erase(rank_[chunk]);
	avail_[chunk] = static_cast<std::uint32_t>(static_cast<int>(avail_[chunk]) + by);
	if (queued)
		level(avail_[chunk]).insert(rank_[chunk]);
}

ChunkSet& ChunkPlan::level(std::uint32_t avail)
{
	if (levels_.size() <= avail)
		levels_.resize(avail + 1, ChunkSet(chunk_count()));
	return levels_[avail];
}

void ChunkPlan::enqueue(std::uint32_t chunk, bool front)
{
	states_[chunk] = State::Queued;
	level(avail_[chunk]).insert(rank_[chunk]);
	queued_count_++;
	if (front) {
		stamp_[chunk] = ++next_stamp_;
		front_.emplace(stamp_[chunk], chunk);
	}
}

void ChunkPlan::dequeue(std::uint32_t chunk)
{
	levels_[avail_[chunk]].erase(rank_[chunk]);
	queued_count_--;
	if (stamp_[chunk] != 0) {
		front_.erase(stamp_[chunk]);
		stamp_[chunk] = 0;
	}
}

std::size_t ChunkPlan::live_peers() const
{
	return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.live; }));
}

std::uint32_t ChunkPlan::unavailable() const
{
	return complete_live_ > 0 ? 0 : levels_[0].size();
}

bool ChunkPlan::holds(PeerId peer, std::uint32_t chunk) const
{
	return peer_live(peer) && (peers_[peer].complete || peers_[peer].have.contains(rank_.at(chunk)));
}

std::uint32_t ChunkPlan::in_flight(PeerId peer) const
{
	return peer < peers_.size() ? peers_[peer].in_flight : 0;
}

std::size_t ChunkPlan::copies(std::uint32_t chunk) const
{
	auto it = flights_.find(chunk);
	return it == flights_.end() ? 0 : it->second.size();
}

bool ChunkPlan::writing(PeerId peer, std::uint32_t chunk) const
{
	auto it = flights_.find(chunk);
	if (it == flights_.end())
		return false;
	auto& list = it->second;
	return std::any_of(list.begin(), list.end(), [&](const Copy& c) { return c.peer == peer && c.mode == Mode::Write; });
}

bool ChunkPlan::has_writer(std::uint32_t chunk) const
{
	auto it = flights_.find(chunk);
	return it != flights_.end() &&
	       std::any_of(it->second.begin(), it->second.end(), [](const Copy& c) { return c.mode == Mode::Write; });
}

std::optional<ChunkPlan::Assignment> ChunkPlan::assign(PeerId peer, double now, bool idle)
{
	return take(peer, now, idle, min_copy_age());
}

std::optional<std::uint32_t> ChunkPlan::next(PeerId peer, double now, bool allow_duplicate, double min_age)
{
	auto a = take(peer, now, allow_duplicate, min_age);
	return a ? std::optional<std::uint32_t>(a->chunk) : std::nullopt;
}

std::optional<ChunkPlan::Assignment> ChunkPlan::take(PeerId peer, double now, bool allow_duplicate, double min_age)
{
	if (!peer_live(peer))
		return std::nullopt;
	expire_claims(now);
	if (!flights_.empty())
		idle_since_.reset();
	else if (!idle_since_)
		idle_since_ = now;
	const Peer& p = peers_[peer];
	bool spare = spare_seeds_ && p.seed && downloaders_live_ > 0;
	// A complete downloader has every chunk the seed could send.
	if (spare && complete_downloaders_ > 0)
		return std::nullopt;
	if (auto chunk = spare ? pick_spare(p, now) : pick_queued(p, levels_.size())) {
		dequeue(*chunk);
		states_[*chunk] = State::InFlight;
		Assignment a = start_copy(*chunk, peer, now);
		a.spare = spare;
		return a;
	}
	if (!allow_duplicate || !endgame())
		return std::nullopt;
	auto chunk = pick_copy(peer, now, min_age);
	if (!chunk)
		return std::nullopt;
	duplicates_++;
	return start_copy(*chunk, peer, now);
}

// A seed shared with other downloaders: only chunks none of them has or
// claimed (level 0), in stripe order once we know our key.
std::optional<std::uint32_t> ChunkPlan::pick_spare(const Peer& p, double now)
{
	stripe_waiting_ = false;
	if (!stripes_)
		return pick_queued(p, 0);
	bool stuck = idle_since_ && now - *idle_since_ >= kStripePatience;
	std::vector<std::uint64_t> busy; // downloaders fetching from the seed
	for (auto& [chunk, c] : claims_)
		if (c.peer != kSomeone)
			busy.push_back(peers_[c.peer].key);
	auto chunk = stripes_->pick(levels_[0], busy, stuck);
	stripe_waiting_ = !chunk && !levels_[0].empty();
	return chunk;
}

// The lowest level with a chunk `p` has; in it, the newest put back, else
// the lowest rank.
std::optional<std::uint32_t> ChunkPlan::pick_queued(const Peer& p, std::size_t max_level) const
{
	std::optional<std::uint32_t> best;
	std::size_t best_level = std::min(levels_.size(), max_level + 1);
	for (auto& [stamp, chunk] : front_) {
		if (avail_[chunk] < best_level && (p.complete || p.have.contains(rank_[chunk]))) {
			best = chunk;
			best_level = avail_[chunk];
			if (best_level == 0)
				break;
		}
	}
	for (std::size_t a = 0; a < best_level; a++) {
		const ChunkSet& level = levels_[a];
		if (level.empty())
			continue;
		if (auto r = p.complete ? level.first() : level.first_in(p.have))
			return chunk_at_[*r];
	}
	return best;
}

// Endgame: duplicate the request that has waited longest, so a slow or
// stuck peer does not hold back the end of the file.
std::optional<std::uint32_t> ChunkPlan::pick_copy(PeerId peer, double now, double min_age) const
{
	std::optional<std::uint32_t> best;
	double best_started = 0;
	bool can_buffer = budget_left();
	for (auto& [chunk, list] : flights_) {
		if (list.size() >= max_copies_ || !holds(peer, chunk))
			continue;
		if (std::any_of(list.begin(), list.end(), [&](const Copy& c) { return c.peer == peer; }))
			continue;
		// A copy beside a writer is buffered, and needs the budget.
		if (!can_buffer && has_writer(chunk))
			continue;
		double oldest = list.front().started;
		for (auto& c : list)
			oldest = std::min(oldest, c.started);
		if (now - oldest < min_age)
			continue;
		if (!best || oldest < best_started) {
			best = chunk;
			best_started = oldest;
		}
	}
	return best;
}

ChunkPlan::Assignment ChunkPlan::start_copy(std::uint32_t chunk, PeerId peer, double now)
{
	Mode mode = has_writer(chunk) ? Mode::Buffer : Mode::Write;
	if (mode == Mode::Buffer) {
		buffered_++;
		if (budget_)
			budget_->free--;
	}
	flights_[chunk].push_back({peer, now, mode});
	peers_[peer].in_flight++;
	return {chunk, mode};
}

void ChunkPlan::end_copy(const Copy& c)
{
	peers_[c.peer].in_flight--;
	if (c.mode == Mode::Buffer) {
		buffered_--;
		if (budget_)
			budget_->free++;
	}
}

void ChunkPlan::received(PeerId peer, std::uint32_t chunk, double now)
{
	auto it = flights_.find(chunk);
	if (it == flights_.end())
		return;
	for (auto& c : it->second) {
		if (c.peer == peer) {
			double seconds = now - c.started;
			chunk_seconds_ = chunk_seconds_ == 0 ? seconds : 0.8 * chunk_seconds_ + 0.2 * seconds;
			return;
		}
	}
}

double ChunkPlan::min_copy_age() const
{
	return std::max(kMinCopyAge, kCopyAgeFactor * chunk_seconds_);
}

void ChunkPlan::remove_copy(std::uint32_t chunk, PeerId peer)
{
	auto it = flights_.find(chunk);
	if (it == flights_.end())
		return;
	auto& list = it->second;
	auto c = std::find_if(list.begin(), list.end(), [&](const Copy& x) { return x.peer == peer; });
	if (c == list.end())
		return;
	end_copy(*c);
	list.erase(c);
	if (list.empty())
		flights_.erase(it);
}

void ChunkPlan::requeue(std::uint32_t chunk)
{
	// Front of the queue: a chunk that failed once is now the oldest work.
	enqueue(chunk, true);
	retries_++;
}

std::optional<std::vector<ChunkPlan::PeerId>> ChunkPlan::verified(PeerId peer, std::uint32_t chunk)
{
	auto it = flights_.find(chunk);
	if (it == flights_.end() || states_.at(chunk) != State::InFlight)
		return std::nullopt;
	auto& list = it->second;
	if (std::none_of(list.begin(), list.end(), [&](const Copy& c) { return c.peer == peer; }))
		return std::nullopt;
	std::vector<PeerId> others;
	for (auto& c : list) {
		end_copy(c);
		if (c.peer != peer)
			others.push_back(c.peer);
	}
	flights_.erase(it);
	states_[chunk] = State::Done;
	done_count_++;
	return others;
}

void ChunkPlan::failed(PeerId peer, std::uint32_t chunk)
{
	if (states_.at(chunk) != State::InFlight)
		return;
	std::size_t before = copies(chunk);
	remove_copy(chunk, peer);
	if (before > 0 && copies(chunk) == 0)
		requeue(chunk);
}

void ChunkPlan::taken(PeerId peer, std::uint32_t chunk, double until)
{
	if (states_.at(chunk) != State::InFlight)
		return;
	std::size_t before = copies(chunk);
	remove_copy(chunk, peer);
	if (before == 0 || copies(chunk) > 0)
		return;
	enqueue(chunk, false);
	auto [it, fresh] = claims_.try_emplace(chunk, Claim{kSomeone, until});
	if (fresh)
		shift(chunk, +1);
	else
		it->second.until = std::max(it->second.until, until);
}

std::vector<std::uint32_t> ChunkPlan::drop_peer(PeerId peer)
{
	std::vector<std::uint32_t> lost;
	if (!peer_live(peer))
		return lost;
	for (auto& [chunk, list] : flights_)
		if (std::any_of(list.begin(), list.end(), [&](const Copy& c) { return c.peer == peer; }))
			lost.push_back(chunk);
	for (auto chunk : lost)
		failed(peer, chunk);
	Peer& p = peers_[peer];
	p.live = false;
	if (!p.seed)
		downloaders_live_--;
	auto same_key = [&](const Peer& q) { return q.live && !q.seed && q.key == p.key; };
	if (!p.seed && stripes_ && p.key != 0 && std::none_of(peers_.begin(), peers_.end(), same_key))
		stripes_->remove(p.key);
	std::vector<std::uint32_t> claimed;
	for (auto& [chunk, c] : claims_)
		if (c.peer == peer)
			claimed.push_back(chunk);
	for (auto chunk : claimed)
		unclaim(chunk);
	if (p.complete) {
		complete_live_--;
		if (!p.seed)
			complete_downloaders_--;
	} else {
		p.have.for_each([&](std::uint32_t r) { shift(chunk_at_[r], -1); });
		p.have = ChunkSet();
	}
	return lost;
}

void ChunkPlan::hold(std::uint32_t chunk)
{
	if (states_.at(chunk) != State::Queued)
		throw std::logic_error("ChunkPlan::hold: chunk not queued");
	dequeue(chunk);
	held_count_++;
	states_[chunk] = State::Held;
}

void ChunkPlan::done(std::uint32_t chunk)
{
	if (states_.at(chunk) != State::Held)
		throw std::logic_error("ChunkPlan::done: chunk not held");
	held_count_--;
	states_[chunk] = State::Done;
	done_count_++;
}

void ChunkPlan::release(std::uint32_t chunk)
{
	if (states_.at(chunk) != State::Held)
		throw std::logic_error("ChunkPlan::release: chunk not held");
	held_count_--;
	enqueue(chunk, true);
}

} // namespace p2pget
