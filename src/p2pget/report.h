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
std::string lookup_json(const p2p::LookupReply& r);

// "12.3 MiB" and the like.
std::string human_bytes(double bytes);
// The progress line (without the leading \r), at most about 79 columns.
std::string progress_line(const Progress& p);

} // namespace p2pget
