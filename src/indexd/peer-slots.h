// PeerSlots: per-peer records addressed by a small PeerId. A released id is
// handed out again before the vector grows, so ids stay dense and holder
// lists can store 4 bytes per peer.
#pragma once

#include "index-store.h"

#include <vector>

namespace indexd {

template <class Record> class PeerSlots {
public:
	// A fresh, default-constructed record and its id.
	PeerId take()
	{
		PeerId id;
		if (!free_.empty()) {
			id = free_.back();
			free_.pop_back();
			records_[id] = Record{};
		} else {
			id = static_cast<PeerId>(records_.size());
			records_.emplace_back();
		}
		return id;
	}
	void release(PeerId id) { free_.push_back(id); }

	Record& operator[](PeerId id) { return records_[id]; }
	const Record& operator[](PeerId id) const { return records_[id]; }
	// Every id ever taken, live or released: callers check their own flag.
	PeerId size() const { return static_cast<PeerId>(records_.size()); }
	// The live records last heard before `t` (records with `live` and
	// `heard`): what both stores expire. A scan: peers are few next to
	// files, and this runs a few times a TTL.
	std::vector<PeerId> heard_before(double t) const
	{
		std::vector<PeerId> ids;
		for (PeerId id = 0; id < size(); id++)
			if (records_[id].live && records_[id].heard < t)
				ids.push_back(id);
		return ids;
	}

private:
	std::vector<Record> records_;
	std::vector<PeerId> free_;
};

} // namespace indexd
