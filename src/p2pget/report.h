// What p2pget prints: the JSON lines for scripts, the one-line summaries
// for people, and the progress line redrawn in place on a terminal.
#pragma once

#include "download.h"
#include "engine.h"

#include "p2p/message.h"

#include <string>

namespace p2pget {

// A JSON string literal, quotes included. Control characters are escaped;
// other bytes pass through (names are UTF-8).
std::string json_string(const std::string& s);

std::string result_json(const FileResult& r);
std::string list_entry_json(const p2p::ListEntry& e);
// --lookup: every holder, complete or partial, with its chunk count.
std::string lookup_json(const p2p::HoldersReply& r);
std::string lookup_line(const p2p::PeerHolding& p);

// Columns `s` takes on a terminal: one per UTF-8 character, near enough
// for names.
std::size_t columns(const std::string& s);
// "12.3 MiB" and the like.
std::string human_bytes(double bytes);
// The progress line (without the leading \r) in fewer than `width`
// columns, so it never wraps: fields are dropped from the right until it
// fits. The file in progress is named when there are several.
std::string progress_line(const Progress& p, std::size_t width = 80);
// The summary of a verified download: what was fetched, at what rate, and
// what an interrupted run or an older copy already gave.
std::string done_line(const FileResult& r);

} // namespace p2pget
