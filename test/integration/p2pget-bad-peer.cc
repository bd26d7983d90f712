// The corrupting test peer; see p2pget-bad-peer.h. The child is a plain
// poll loop over blocking sockets: tests give it one client at a time.
#include "p2pget-bad-peer.h"

#include "fixtures.h"

#include "p2p/codec.h"
#include "p2p/hash.h"

#include <arpa/inet.h>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace p2pget_test {

namespace {

struct Shared {
	std::string name;
	std::string path;
	std::uint64_t size;
	std::vector<p2p::Hash> chunks;
	p2p::Hash content;
};

Shared hash_file(const std::filesystem::path& dir, const std::string& name)
{
	Shared s{name, (dir / name).string(), std::filesystem::file_size(dir / name), {}, {}};
	s.content = fixtures::file_content_hash(dir / name, &s.chunks);
	return s;
}

// Replies are sealed with this key when it is set (closed cluster); one
// connection at a time, so one FrameAuth per connection is kept here.
std::optional<p2p::FrameAuth> g_seal;

bool send_msg(int fd, const p2p::Message& m)
{
	auto bytes = p2p::encode(m);
	if (g_seal)
		g_seal->append_mac(bytes);
	return fixtures::send_all(fd, bytes.data(), bytes.size());
}

int connect_loopback(std::uint16_t port)
{
	int fd = ::socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
		::close(fd);
		return -1;
	}
	return fd;
}

BadPeerKind g_kind = BadPeerKind::Corrupter;

// A claimer's one answer: nothing held, everything being fetched.
bool claim_all(int fd, const p2p::HaveRequest& hr, const std::map<std::string, Shared>& files)
{
	auto it = files.find(hr.name);
	if (it == files.end())
		return send_msg(fd, p2p::Error{p2p::ErrorCode::NotFound, 0, "not shared"});
	auto n = static_cast<std::uint32_t>(it->second.chunks.size());
	bool ok = send_msg(fd, p2p::HaveMap{hr.name, std::vector<bool>(n, false)});
	for (std::uint32_t c = 0; ok && c < n; c++)
		ok = send_msg(fd, p2p::Fetching{hr.name, c});
	return ok;
}

// Answers one decoded request; false ends the connection.
bool serve(int fd, const p2p::Message& msg, const std::map<std::string, Shared>& files, bool& corrupted,
           std::ofstream& log)
{
	if (g_kind == BadPeerKind::Claimer) {
		if (std::holds_alternative<p2p::ChunkRequest>(msg))
			log << "chunk request" << std::endl;
		if (std::holds_alternative<p2p::Stats>(msg))
			return send_msg(fd, p2p::StatsReply{{{"features", p2p::kFeatureChunkMaps}}});
		auto* hr = std::get_if<p2p::HaveRequest>(&msg);
		return !hr || claim_all(fd, *hr, files); // and then silence
	}
	if (std::holds_alternative<p2p::Stats>(msg)) // as a peer answers it: it speaks nothing optional
		return send_msg(fd, p2p::StatsReply{{{"features", 0}}});
	if (auto* mr = std::get_if<p2p::ManifestRequest>(&msg)) {
		auto it = files.find(mr->name);
		if (it == files.end())
			return send_msg(fd, p2p::Error{p2p::ErrorCode::NotFound, 0, "not shared"});
		auto& s = it->second;
		p2p::Manifest m{s.name, s.size, p2p::kChunkSize, s.content, static_cast<std::uint32_t>(s.chunks.size()),
		                mr->first_chunk, {}};
		for (std::size_t i = mr->first_chunk; i < s.chunks.size() && m.chunk_hashes.size() < p2p::kMaxManifestPage; i++)
			m.chunk_hashes.push_back(s.chunks[i]);
		return send_msg(fd, m);
	}
	if (auto* cr = std::get_if<p2p::ChunkRequest>(&msg)) {
		log << cr->offset << " " << cr->length << std::endl;
		auto it = files.find(cr->name);
		if (it == files.end() || it->second.content != cr->content_hash)
			return send_msg(fd, p2p::Error{p2p::ErrorCode::NotFound, cr->id, "not shared"});
		std::vector<char> buf(cr->length);
		int file = ::open(it->second.path.c_str(), O_RDONLY);
		ssize_t n = ::pread(file, buf.data(), buf.size(), static_cast<off_t>(cr->offset));
		::close(file);
		if (n != static_cast<ssize_t>(buf.size()))
			return send_msg(fd, p2p::Error{p2p::ErrorCode::BadRange, cr->id, "bad range"});
		if (!corrupted && !buf.empty()) {
			buf[buf.size() / 2] ^= 0x5a;
			corrupted = true;
		}
		return send_msg(fd, p2p::ChunkData{cr->id, cr->offset, cr->length}) &&
		       fixtures::send_all(fd, buf.data(), buf.size());
	}
	return false;
}

[[noreturn]] void child(int listen_fd, int index_fd, std::map<std::string, Shared> files, std::string log_path,
                        std::optional<p2p::SecretKey> serve_key)
{
	// Requests carry a MAC after them in a closed cluster; this peer does
	// not check it, it only skips it.
	std::size_t mac_in = serve_key ? p2p::kMacSize : 0;
	std::ofstream log(log_path, std::ios::app);
	bool corrupted = false;
	int client = -1;
	std::vector<std::byte> buf;
	while (true) {
		pollfd pfds[3] = {{listen_fd, POLLIN, 0}, {index_fd, POLLIN, 0}, {client, POLLIN, 0}};
		if (::poll(pfds, client >= 0 ? 3 : 2, -1) < 0)
			continue;
		if (pfds[1].revents) {
			char tmp[4096];
			// The index went away: so do we, but a frozen claimer stays.
			if (::recv(index_fd, tmp, sizeof tmp, 0) <= 0) {
				if (g_kind != BadPeerKind::Claimer)
					::_exit(0);
				index_fd = -1;
			}
		}
		if (pfds[0].revents & POLLIN) {
			int fd = ::accept(listen_fd, nullptr, nullptr);
			if (fd >= 0) {
				if (client >= 0)
					::close(client);
				client = fd;
				buf.clear();
				if (serve_key)
					g_seal.emplace(*serve_key, false);
			}
			continue;
		}
		if (client >= 0 && pfds[2].revents) {
			char tmp[65536];
			ssize_t n = ::recv(client, tmp, sizeof tmp, 0);
			if (n <= 0) {
				::close(client);
				client = -1;
				continue;
			}
			auto b = reinterpret_cast<const std::byte*>(tmp);
			buf.insert(buf.end(), b, b + n);
			while (true) {
				auto d = p2p::decode(buf);
				if (d.status != p2p::DecodeStatus::Ok || buf.size() < d.consumed + mac_in)
					break;
				buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(d.consumed + mac_in));
				if (!serve(client, d.message, files, corrupted, log)) {
					::close(client);
					client = -1;
					break;
				}
			}
		}
	}
}

} // namespace

BadPeer::BadPeer(std::uint16_t index_port, const std::filesystem::path& dir, std::vector<std::string> names,
                 const std::filesystem::path& log, const BadPeerKeys& keys, BadPeerKind kind)
	: log_(log)
{
	g_kind = kind;
	p2p::hash_init();
	std::map<std::string, Shared> files;
	p2p::Register reg;
	for (auto& n : names) {
		files[n] = hash_file(dir, n);
		reg.files.push_back({n, files[n].size, files[n].content});
	}
	int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sa;
	if (::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(lfd, 16) != 0 ||
	    ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len) != 0)
		throw std::runtime_error("bad peer: cannot listen");
	port_ = ntohs(sa.sin_port);
	reg.port = port_;
	// A claimer is listed as a partial holder (one chunk, it says).
	std::vector<p2p::Message> say{reg};
	if (kind == BadPeerKind::Claimer) {
		p2p::UpdatePartial partial;
		for (auto& f : reg.files)
			partial.entries.push_back({f, 1});
		say = {p2p::Register{port_, {}}, partial};
	}
	int ifd = connect_loopback(index_port);
	if (keys.index)
		g_seal.emplace(*keys.index, true);
	bool sent = ifd >= 0;
	for (auto& m : say)
		sent = sent && send_msg(ifd, m);
	g_seal.reset();
	if (!sent)
		throw std::runtime_error("bad peer: cannot reach the index");
	// Wait for the index's Oks so the test can look the peer up at once.
	std::vector<std::byte> in;
	for (std::size_t oks = say.size(); oks > 0;) {
		char tmp[4096];
		ssize_t n = ::recv(ifd, tmp, sizeof tmp, 0);
		if (n <= 0)
			throw std::runtime_error("bad peer: index closed");
		auto b = reinterpret_cast<const std::byte*>(tmp);
		in.insert(in.end(), b, b + n);
		for (auto d = p2p::decode(in); d.status == p2p::DecodeStatus::Ok; d = p2p::decode(in)) {
			if (!std::holds_alternative<p2p::Ok>(d.message))
				throw std::runtime_error("bad peer: index refused the registration");
			in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(d.consumed));
			oks--;
		}
	}
	pid_ = ::fork();
	if (pid_ < 0)
		throw std::runtime_error("bad peer: fork failed");
	if (pid_ == 0)
		child(lfd, ifd, std::move(files), log_.string(), keys.serve);
	::close(lfd);
	::close(ifd);
}

BadPeer::~BadPeer()
{
	if (pid_ > 0) {
		::kill(pid_, SIGKILL);
		::waitpid(pid_, nullptr, 0);
	}
}

std::size_t BadPeer::requests() const
{
	std::ifstream in(log_);
	std::size_t n = 0;
	std::string line;
	while (std::getline(in, line))
		n++;
	return n;
}

} // namespace p2pget_test
