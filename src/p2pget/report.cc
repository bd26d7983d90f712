// Output formats; see report.h.
#include "report.h"

#include "p2p/address.h"

#include <cmath>
#include <cstdio>
#include <vector>

namespace p2pget {

std::string json_string(const std::string& s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		default:
			if (c < 0x20) {
				char buf[8];
				std::snprintf(buf, sizeof buf, "\\u%04x", c);
				out += buf;
			} else {
				out += static_cast<char>(c);
			}
		}
	}
	return out + "\"";
}

static const char* status_name(FileResult::Status s)
{
	switch (s) {
	case FileResult::Status::Ok: return "ok";
	case FileResult::Status::Missing: return "missing";
	case FileResult::Status::Failed: return "failed";
	case FileResult::Status::IndexDown: return "index-unreachable";
	case FileResult::Status::Interrupted: return "interrupted";
	case FileResult::Status::Pending: return "pending";
	}
	return "?";
}

std::string result_json(const FileResult& r)
{
	char num[512];
	std::string out = "{\"name\":" + json_string(r.name);
	out += ",\"ok\":";
	out += r.status == FileResult::Status::Ok ? "true" : "false";
	out += ",\"status\":\"" + std::string(status_name(r.status)) + "\"";
	std::snprintf(num, sizeof num,
	              ",\"size\":%llu,\"hash\":\"%s\",\"seconds\":%.3f,\"bytes\":%llu,\"resumed\":%llu,\"retries\":%llu,"
	              "\"duplicates\":%llu,\"bad_chunks\":%llu,\"versions\":%zu",
	              static_cast<unsigned long long>(r.size), p2p::to_hex(r.hash).c_str(), r.seconds,
	              static_cast<unsigned long long>(r.fetched), static_cast<unsigned long long>(r.resumed),
	              static_cast<unsigned long long>(r.retries), static_cast<unsigned long long>(r.duplicates),
	              static_cast<unsigned long long>(r.bad_chunks), r.versions);
	out += num;
	out += ",\"peers\":[";
	for (std::size_t i = 0; i < r.peer_bytes.size(); i++) {
		std::snprintf(num, sizeof num, "%s{\"peer\":%s,\"bytes\":%llu}", i ? "," : "",
		              json_string(r.peer_bytes[i].first).c_str(),
		              static_cast<unsigned long long>(r.peer_bytes[i].second));
		out += num;
	}
	out += "]";
	if (r.status != FileResult::Status::Ok)
		out += ",\"error\":" + json_string(r.error);
	return out + "}";
}

std::string list_entry_json(const p2p::ListEntry& e)
{
	char num[160];
	std::snprintf(num, sizeof num, ",\"size\":%llu,\"hash\":\"%s\",\"peers\":%u}",
	              static_cast<unsigned long long>(e.size), p2p::to_hex(e.hash).c_str(), e.peers);
	return "{\"name\":" + json_string(e.name) + num;
}

// A complete holder's chunk count is the file's.
static std::uint32_t chunks_held(const p2p::PeerHolding& p)
{
	return p.complete() ? p2p::chunk_count(p.size, p2p::kChunkSize) : p.chunks;
}

std::string lookup_json(const p2p::HoldersReply& r)
{
	std::string out = "{\"name\":" + json_string(r.name) + ",\"peers\":[";
	char num[320];
	for (std::size_t i = 0; i < r.peers.size(); i++) {
		auto& p = r.peers[i];
		std::snprintf(num, sizeof num,
		              "%s{\"host\":\"%s\",\"port\":%u,\"size\":%llu,\"hash\":\"%s\",\"complete\":%s,\"chunks\":%u}",
		              i ? "," : "", p2p::format_ip(p.host).c_str(), p.port, static_cast<unsigned long long>(p.size),
		              p2p::to_hex(p.hash).c_str(), p.complete() ? "true" : "false", chunks_held(p));
		out += num;
	}
	return out + "]}";
}

std::string lookup_line(const p2p::PeerHolding& p)
{
	char line[256];
	std::snprintf(line, sizeof line, "%-24s %14llu  %s", p2p::format_endpoint(p.host, p.port).c_str(),
	              static_cast<unsigned long long>(p.size), p2p::to_hex(p.hash).c_str());
	std::string out = line;
	if (!p.complete())
		out += "  partial " + std::to_string(p.chunks) + "/" +
		       std::to_string(p2p::chunk_count(p.size, p2p::kChunkSize)) + " chunks";
	return out;
}

std::string human_bytes(double bytes)
{
	static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	char buf[32];
	std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
	return buf;
}

std::size_t columns(const std::string& s)
{
	std::size_t n = 0;
	for (unsigned char c : s)
		n += (c & 0xc0) != 0x80;
	return n;
}

namespace {

// The first `cols` columns of `s`, never splitting a UTF-8 character.
std::string first_columns(const std::string& s, std::size_t cols)
{
	std::size_t n = 0, i = 0;
	for (; i < s.size(); i++)
		if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80 && n++ == cols)
			break;
	return s.substr(0, i);
}

std::string eta_text(const Progress& p, double rate)
{
	char eta[32] = "--:--";
	if (rate > 0 && p.total > p.done) {
		double s = static_cast<double>(p.total - p.done) / rate;
		if (s < 360000)
			std::snprintf(eta, sizeof eta, "%d:%02d", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
	} else if (p.total == p.done && p.total > 0) {
		std::snprintf(eta, sizeof eta, "0:00");
	}
	return std::string("ETA ") + eta;
}

} // namespace

std::string progress_line(const Progress& p, std::size_t width)
{
	double rate = p.elapsed > 0 ? static_cast<double>(p.received) / p.elapsed : 0;
	int pct = p.total > 0 ? static_cast<int>(100.0 * static_cast<double>(p.done) / static_cast<double>(p.total)) : 0;
	char buf[16];
	std::snprintf(buf, sizeof buf, "%3d%%", pct);
	// Most telling first: the fields on the right go first when narrow.
	std::vector<std::string> fields{buf};
	fields.push_back(human_bytes(static_cast<double>(p.done)) + " / " + human_bytes(static_cast<double>(p.total)));
	fields.push_back(human_bytes(rate) + "/s");
	// Once every file is over no peer is busy; "0 peers" would mislead.
	if (p.files_done < p.files)
		fields.push_back(std::to_string(p.peers) + (p.peers == 1 ? " peer" : " peers"));
	fields.push_back(eta_text(p, rate));
	if (p.files > 1) {
		fields.push_back("[" + std::to_string(p.files_done) + "/" + std::to_string(p.files) + " files]");
		if (!p.current.empty())
			fields.push_back(p.current);
	}
	std::size_t room = width > 1 ? width - 1 : 0;
	std::string line;
	for (auto& f : fields) {
		std::string next = line.empty() ? f : line + "  " + f;
		if (columns(next) > room)
			break;
		line = std::move(next);
	}
	return line.empty() ? first_columns(fields.front(), room) : line;
}

std::string done_line(const FileResult& r)
{
	auto size = human_bytes(static_cast<double>(r.size));
	double rate = r.seconds > 0 ? static_cast<double>(r.fetched) / r.seconds : 0;
	char buf[256];
	if (r.resumed == 0) {
		std::snprintf(buf, sizeof buf, "%s in %.2f s (%s/s), verified", size.c_str(), r.seconds,
		              human_bytes(rate).c_str());
	} else if (r.fetched == 0) {
		std::snprintf(buf, sizeof buf, "%s in %.2f s: nothing fetched, all already on disk, verified", size.c_str(),
		              r.seconds);
	} else {
		std::snprintf(buf, sizeof buf, "%s in %.2f s: %s fetched at %s/s, %s already on disk, verified",
		              size.c_str(), r.seconds, human_bytes(static_cast<double>(r.fetched)).c_str(),
		              human_bytes(rate).c_str(), human_bytes(static_cast<double>(r.resumed)).c_str());
	}
	return r.name + ": " + buf;
}

} // namespace p2pget
