// Chunk maps (feature bit 1): which chunks of a file this server has
// verified, as a HAVE_MAP, and which versions a session asked to hear of
// when more are verified (HAVE). Pure: no I/O.
#pragma once

#include "serve-check.h"
#include "serve-source.h"

#include "p2p/message.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace serve {

// `f` is find()'s answer for req.name (nullptr: not served here).
// NotFound (not served) or Changed (another version, by size or hash), or
// nullopt: answer with have_map().
std::optional<Refusal> check_have(const ServedFile* f, const p2p::HaveRequest& req);
// Every chunk of `f`, set when verified.
p2p::HaveMap have_map(const ServedFile& f, const std::string& name);

// The versions one session asked a HAVE_MAP of. Small by design: a client
// fetches one file per connection, so a few names are plenty, and the list
// bounds what one connection can make us remember.
class HaveSubscriptions {
public:
	static constexpr std::size_t kMax = 16;

	// Adds (or keeps) the request's version; false when kMax others are
	// already there.
	bool add(const p2p::HaveRequest& req);
	// Whether HAVEs of this version of `name` were asked for.
	bool wants(const std::string& name, std::uint64_t size, const p2p::Hash& content) const;
	std::size_t size() const { return subs_.size(); }

private:
	std::vector<p2p::HaveRequest> subs_;
};

} // namespace serve
