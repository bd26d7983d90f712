// The chunk plan: see chunk-plan.h.
#include "chunk-plan.h"

#include <algorithm>
#include <stdexcept>

namespace p2pget {

ChunkPlan::ChunkPlan(std::uint32_t chunk_count, std::uint32_t max_copies, DupBudget* budget)
	: states_(chunk_count, State::Queued), max_copies_(std::max<std::uint32_t>(1, max_copies)), budget_(budget),
	  queued_count_(chunk_count)
{
	for (std::uint32_t i = 0; i < chunk_count; i++)
		queue_.push_back(i);
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
	return peers_.size() - 1;
}

std::size_t ChunkPlan::live_peers() const
{
	return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [](const Peer& p) { return p.live; }));
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
	return it != flights_.end() && std::any_of(it->second.begin(), it->second.end(), [&](const Copy& c) {
		       return c.peer == peer && c.mode == Mode::Write;
	       });
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
	while (!queue_.empty()) {
		std::uint32_t chunk = queue_.front();
		queue_.pop_front();
		// Entries of held or re-queued chunks may be stale; skip them.
		if (states_[chunk] != State::Queued)
			continue;
		queued_count_--;
		states_[chunk] = State::InFlight;
		return start_copy(chunk, peer, now);
	}
	if (!allow_duplicate || !endgame())
		return std::nullopt;
	auto chunk = pick_copy(peer, now, min_age);
	if (!chunk)
		return std::nullopt;
	duplicates_++;
	return start_copy(*chunk, peer, now);
}

// Endgame: duplicate the request that has waited longest, so a slow or
// stuck peer does not hold back the end of the file.
std::optional<std::uint32_t> ChunkPlan::pick_copy(PeerId peer, double now, double min_age) const
{
	std::optional<std::uint32_t> best;
	double best_started = 0;
	bool can_buffer = budget_left();
	for (auto& [chunk, list] : flights_) {
		if (list.size() >= max_copies_)
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
	states_[chunk] = State::Queued;
	queued_count_++;
	queue_.push_front(chunk);
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
	peers_[peer].live = false;
	return lost;
}

void ChunkPlan::hold(std::uint32_t chunk)
{
	if (states_.at(chunk) != State::Queued)
		throw std::logic_error("ChunkPlan::hold: chunk not queued");
	// Its queue entry stays behind, stale, and next() skips it: erasing
	// from the middle would make resuming a huge file quadratic.
	queued_count_--;
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
	states_[chunk] = State::Queued;
	queued_count_++;
	queue_.push_front(chunk);
}

} // namespace p2pget
