// The chunk plan: see chunk-plan.h.
#include "chunk-plan.h"

#include <algorithm>
#include <stdexcept>

namespace p2pget {

ChunkPlan::ChunkPlan(std::uint32_t chunk_count, std::uint32_t max_copies)
	: states_(chunk_count, State::Queued), max_copies_(std::max<std::uint32_t>(1, max_copies)),
	  queued_count_(chunk_count)
{
	for (std::uint32_t i = 0; i < chunk_count; i++)
		queue_.push_back(i);
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

std::optional<std::uint32_t> ChunkPlan::next(PeerId peer, double now, bool allow_duplicate, double min_age)
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
		flights_[chunk].push_back({peer, now});
		peers_[peer].in_flight++;
		return chunk;
	}
	if (!allow_duplicate || !endgame())
		return std::nullopt;
	// Endgame: duplicate the request that has waited longest, so a slow or
	// stuck peer does not hold back the end of the file.
	std::optional<std::uint32_t> best;
	double best_started = 0;
	for (auto& [chunk, list] : flights_) {
		if (list.size() >= max_copies_)
			continue;
		if (std::any_of(list.begin(), list.end(), [&](const Copy& c) { return c.peer == peer; }))
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
	if (best) {
		flights_[*best].push_back({peer, now});
		peers_[peer].in_flight++;
		duplicates_++;
	}
	return best;
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
	list.erase(c);
	peers_[peer].in_flight--;
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
		peers_[c.peer].in_flight--;
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
