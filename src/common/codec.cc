// Frame and message encoding. Every read is bounds-checked against the
// payload, and every count is checked against the bytes left before anything
// is reserved, so a hostile frame cannot make us allocate more than it sent.
#include "p2p/codec.h"

#include "p2p/frame-step.h"

#include "wire-buffer.h"

#include <algorithm>
#include <cassert>
#include <concepts>
#include <cstring>

namespace p2p {
namespace {

using wire::Reader;
using wire::Writer;

constexpr std::size_t kMaxStatKey = 64;
constexpr std::size_t kMinFileEntry = file_entry_wire_size(1);

void put(Writer& w, const FileEntry& f)
{
	w.str(f.name);
	w.u64(f.size);
	w.hash(f.hash);
}

FileEntry get_file(Reader& r)
{
	FileEntry f;
	f.name = r.name();
	f.size = r.u64();
	f.hash = r.hash();
	return f;
}

void put_body(Writer& w, const Register& m)
{
	w.u16(m.port);
	w.count(m.files.size());
	for (const auto& f : m.files)
		put(w, f);
}
void put_body(Writer& w, const Update& m)
{
	w.count(m.added.size());
	for (const auto& f : m.added)
		put(w, f);
	w.count(m.removed.size());
	for (const auto& n : m.removed)
		w.str(n);
}
void put_body(Writer&, const Unregister&) {}
void put_body(Writer& w, const Lookup& m) { w.str(m.name); }
void put(Writer& w, const PeerHolding& p)
{
	w.raw(p.host.data(), p.host.size());
	w.u16(p.port);
	w.u64(p.size);
	w.hash(p.hash);
}
void put_body(Writer& w, const LookupReply& m)
{
	w.str(m.name);
	w.count(m.peers.size());
	for (const auto& p : m.peers)
		put(w, p);
}
void put_body(Writer& w, const UpdatePartial& m)
{
	w.count(m.entries.size());
	for (const auto& e : m.entries) {
		put(w, e.file);
		w.u32(e.chunks);
	}
}
void put_body(Writer& w, const LookupHolders& m) { w.str(m.name); }
void put_body(Writer& w, const HoldersReply& m)
{
	w.str(m.name);
	w.count(m.peers.size());
	for (const auto& p : m.peers) {
		put(w, p);
		w.u32(p.chunks);
	}
}
void put_body(Writer& w, const List& m)
{
	w.str(m.after);
	w.u32(m.limit);
}
void put_body(Writer& w, const ListReply& m)
{
	w.u8(m.more ? 1 : 0);
	w.count(m.entries.size());
	for (const auto& e : m.entries) {
		w.str(e.name);
		w.u64(e.size);
		w.hash(e.hash);
		w.u32(e.peers);
	}
}
void put_body(Writer&, const Stats&) {}
void put_body(Writer& w, const StatsReply& m)
{
	w.count(m.counters.size());
	for (const auto& [key, value] : m.counters) {
		w.str(key);
		w.u64(value);
	}
}
void put_body(Writer& w, const Ping& m) { w.u64(m.token); }
void put_body(Writer& w, const Pong& m) { w.u64(m.token); }
void put_body(Writer& w, const Ok& m) { w.u8(static_cast<std::uint8_t>(m.of)); }
void put_body(Writer& w, const Error& m)
{
	w.u16(static_cast<std::uint16_t>(m.code));
	w.u32(m.ref);
	w.str(m.text.size() > kMaxMessageText ? m.text.substr(0, kMaxMessageText) : m.text);
}
void put_body(Writer&, const Hello&) {}
void put_body(Writer& w, const Challenge& m) { w.raw(m.nonce.data(), m.nonce.size()); }
void put_body(Writer& w, const Identify& m)
{
	w.raw(m.public_key.data(), m.public_key.size());
	w.raw(m.signature.data(), m.signature.size());
}
void put_body(Writer& w, const ManifestRequest& m)
{
	w.str(m.name);
	w.u32(m.first_chunk);
}
void put_body(Writer& w, const Manifest& m)
{
	w.str(m.name);
	w.u64(m.size);
	w.u32(m.chunk_size);
	w.hash(m.content_hash);
	w.u32(m.chunk_count);
	w.u32(m.first_chunk);
	w.count(m.chunk_hashes.size());
	for (const auto& h : m.chunk_hashes)
		w.hash(h);
}
void put_body(Writer& w, const ChunkRequest& m)
{
	w.u32(m.id);
	w.str(m.name);
	w.hash(m.content_hash);
	w.u64(m.offset);
	w.u32(m.length);
}
void put_body(Writer& w, const ChunkRequestSpare& m)
{
	put_body(w, static_cast<const ChunkRequest&>(m));
}
void put_body(Writer& w, const ChunkData& m)
{
	w.u32(m.id);
	w.u64(m.offset);
	w.u32(m.length);
}
void put_body(Writer& w, const HaveRequest& m)
{
	w.str(m.name);
	w.u64(m.size);
	w.hash(m.content_hash);
}
void put_body(Writer& w, const HaveMap& m)
{
	w.str(m.name);
	w.count(m.have.size());
	std::uint8_t byte = 0;
	for (std::size_t i = 0; i < m.have.size(); i++) {
		if (m.have[i])
			byte |= static_cast<std::uint8_t>(0x80u >> (i % 8));
		if (i % 8 == 7 || i + 1 == m.have.size()) {
			w.u8(byte);
			byte = 0;
		}
	}
}
// HAVE and FETCHING share one body: a name and a chunk index.
template <typename T>
concept NameAndChunk = std::same_as<T, Have> || std::same_as<T, Fetching>;

void put_body(Writer& w, const NameAndChunk auto& m)
{
	w.str(m.name);
	w.u32(m.chunk);
}

void get_body(Reader& r, Register& m)
{
	m.port = r.u16();
	std::uint32_t n = r.count(UINT32_MAX, kMinFileEntry);
	m.files.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++)
		m.files.push_back(get_file(r));
	if (r.ok() && m.port == 0)
		r.fail(ErrorCode::Malformed, "register with port 0");
}

void get_body(Reader& r, Update& m)
{
	std::uint32_t n = r.count(UINT32_MAX, kMinFileEntry);
	m.added.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++)
		m.added.push_back(get_file(r));
	n = r.count(UINT32_MAX, 3);
	m.removed.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++)
		m.removed.push_back(r.name());
}

void get_body(Reader&, Unregister&) {}
void get_body(Reader& r, Lookup& m) { m.name = r.name(); }

void get(Reader& r, PeerHolding& p)
{
	r.raw(p.host.data(), p.host.size());
	p.port = r.u16();
	p.size = r.u64();
	p.hash = r.hash();
}

void get_body(Reader& r, LookupReply& m)
{
	m.name = r.name();
	std::uint32_t n = r.count(kMaxLookupPeers, kPeerHoldingSize);
	m.peers.resize(n);
	for (auto& p : m.peers)
		get(r, p);
}

void get_body(Reader& r, UpdatePartial& m)
{
	std::uint32_t n = r.count(UINT32_MAX, kMinFileEntry + 4);
	m.entries.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++) {
		PartialEntry e;
		e.file = get_file(r);
		e.chunks = r.u32();
		m.entries.push_back(std::move(e));
	}
}

void get_body(Reader& r, LookupHolders& m) { m.name = r.name(); }

void get_body(Reader& r, HoldersReply& m)
{
	m.name = r.name();
	std::uint32_t n = r.count(kMaxLookupPeers, kHolderSize);
	m.peers.resize(n);
	for (auto& p : m.peers) {
		get(r, p);
		p.chunks = r.u32();
	}
}

void get_body(Reader& r, List& m)
{
	m.after = r.str(kMaxName);
	m.limit = r.u32();
	if (r.ok() && (m.limit == 0 || m.limit > kMaxListPage))
		r.fail(ErrorCode::Malformed, "list limit outside 1..4096");
}

void get_body(Reader& r, ListReply& m)
{
	std::uint8_t more = r.u8();
	if (more > 1)
		r.fail(ErrorCode::Malformed, "list 'more' flag not 0 or 1");
	m.more = more == 1;
	std::uint32_t n = r.count(kMaxListPage, 3 + 8 + kHashSize + 4);
	m.entries.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++) {
		ListEntry e;
		e.name = r.name();
		e.size = r.u64();
		e.hash = r.hash();
		e.peers = r.u32();
		m.entries.push_back(std::move(e));
	}
}

void get_body(Reader&, Stats&) {}

void get_body(Reader& r, StatsReply& m)
{
	std::uint32_t n = r.count(kMaxStats, 2 + 8);
	m.counters.reserve(n);
	for (std::uint32_t i = 0; i < n && r.ok(); i++) {
		std::string key = r.str(kMaxStatKey);
		std::uint64_t value = r.u64();
		m.counters.emplace_back(std::move(key), value);
	}
}

void get_body(Reader& r, Ping& m) { m.token = r.u64(); }
void get_body(Reader& r, Pong& m) { m.token = r.u64(); }

void get_body(Reader& r, Ok& m)
{
	std::uint8_t of = r.u8();
	if (of != static_cast<std::uint8_t>(MsgType::Register) && of != static_cast<std::uint8_t>(MsgType::Update) &&
	    of != static_cast<std::uint8_t>(MsgType::Unregister) && of != static_cast<std::uint8_t>(MsgType::UpdatePartial))
		r.fail(ErrorCode::Malformed, "ok for a message that is not acknowledged");
	m.of = static_cast<MsgType>(of);
}

void get_body(Reader& r, Error& m)
{
	m.code = static_cast<ErrorCode>(r.u16());
	m.ref = r.u32();
	m.text = r.str(kMaxMessageText);
}

void get_body(Reader&, Hello&) {}
void get_body(Reader& r, Challenge& m) { r.raw(m.nonce.data(), m.nonce.size()); }

void get_body(Reader& r, Identify& m)
{
	r.raw(m.public_key.data(), m.public_key.size());
	r.raw(m.signature.data(), m.signature.size());
}

void get_body(Reader& r, ManifestRequest& m)
{
	m.name = r.name();
	m.first_chunk = r.u32();
}

void get_body(Reader& r, Manifest& m)
{
	m.name = r.name();
	m.size = r.u64();
	m.chunk_size = r.u32();
	m.content_hash = r.hash();
	m.chunk_count = r.u32();
	m.first_chunk = r.u32();
	if (r.ok() && (m.chunk_size == 0 || m.chunk_size > kMaxChunkLength))
		r.fail(ErrorCode::Malformed, "manifest chunk size outside 1..16 MiB");
	else if (r.ok() && static_cast<std::uint64_t>(m.chunk_count) != (m.size + m.chunk_size - 1) / m.chunk_size)
		r.fail(ErrorCode::Malformed, "manifest chunk count does not match size");
	std::uint32_t n = r.count(kMaxManifestPage, kHashSize);
	if (r.ok() && static_cast<std::uint64_t>(m.first_chunk) + n > m.chunk_count)
		r.fail(ErrorCode::Malformed, "manifest page beyond the last chunk");
	m.chunk_hashes.resize(r.ok() ? n : 0);
	for (auto& h : m.chunk_hashes)
		h = r.hash();
}

// A length above 16 MiB is a request to refuse, not a malformed frame: the
// server answers it alone (ERROR bad-range, ref = id) and reads on.
void get_body(Reader& r, ChunkRequest& m)
{
	m.id = r.u32();
	m.name = r.name();
	m.content_hash = r.hash();
	m.offset = r.u64();
	m.length = r.u32();
}

void get_body(Reader& r, ChunkRequestSpare& m)
{
	get_body(r, static_cast<ChunkRequest&>(m));
}

void get_body(Reader& r, ChunkData& m)
{
	m.id = r.u32();
	m.offset = r.u64();
	m.length = r.u32();
	if (r.ok() && m.length > kMaxChunkLength)
		r.fail(ErrorCode::BadRange, "chunk data longer than 16 MiB");
}

void get_body(Reader& r, HaveRequest& m)
{
	m.name = r.name();
	m.size = r.u64();
	m.content_hash = r.hash();
}

void get_body(Reader& r, HaveMap& m)
{
	m.name = r.name();
	std::uint32_t n = r.u32();
	std::uint64_t bytes = (static_cast<std::uint64_t>(n) + 7) / 8;
	if (r.ok() && bytes > r.left())
		r.fail(ErrorCode::Malformed, "chunk map shorter than its count");
	if (!r.ok())
		return;
	m.have.resize(n);
	std::uint8_t byte = 0;
	for (std::uint32_t i = 0; i < n; i++) {
		if (i % 8 == 0)
			byte = r.u8();
		m.have[i] = byte & (0x80u >> (i % 8));
	}
	// One encoding per map: the spare bits of the last byte are 0.
	if (n % 8 != 0 && (byte & (0xffu >> (n % 8))) != 0)
		r.fail(ErrorCode::Malformed, "chunk map with spare bits set");
}

void get_body(Reader& r, NameAndChunk auto& m)
{
	m.name = r.name();
	m.chunk = r.u32();
}

template <typename T>
Message get_as(Reader& r)
{
	T m;
	get_body(r, m);
	return m;
}

Message get_payload(MsgType type, Reader& r)
{
	switch (type) {
#define P2P_MSG_GET(Name, id, wire) \
	case MsgType::Name: return get_as<Name>(r);
		P2P_MESSAGES(P2P_MSG_GET)
#undef P2P_MSG_GET
	}
	r.fail(ErrorCode::UnknownType, "unknown message type");
	return Unregister{};
}

Decoded bad(ErrorCode code, const char* why)
{
	Decoded d;
	d.status = DecodeStatus::Bad;
	d.error = code;
	d.why = why;
	return d;
}

} // namespace

bool is_known_type(std::uint8_t type) { return known_type(type); }

MsgType type_of(const Message& msg)
{
	static constexpr MsgType types[] = {
#define P2P_MSG_TYPE(Name, id, wire) MsgType::Name,
		P2P_MESSAGES(P2P_MSG_TYPE)
#undef P2P_MSG_TYPE
	};
	static_assert(std::size(types) == std::variant_size_v<Message>);
	return types[msg.index()];
}

// The header is judged by the framing step alone (frame-step.cc).
Decoded check_header(std::span<const std::byte> bytes, FrameHeader& out)
{
	FrameStep s = frame_step(bytes.first(std::min(bytes.size(), kHeaderSize)), nullptr);
	if (s.is_bad())
		return bad(s.bad.code, s.bad.why);
	if (bytes.size() < kHeaderSize)
		return {};
	out = s.header;
	Decoded d;
	d.status = DecodeStatus::Ok;
	d.consumed = kHeaderSize;
	return d;
}

Decoded decode(std::span<const std::byte> bytes)
{
	FrameStep s = frame_step(bytes, nullptr);
	if (s.is_bad())
		return bad(s.bad.code, s.bad.why);
	if (s.need_more())
		return {};
	return decode_frame(s.header.type, s.frame);
}

Decoded decode_frame(MsgType type, std::span<const std::byte> frame)
{
	Reader r(frame.subspan(kHeaderSize));
	Message msg = get_payload(type, r);
	if (r.ok() && !r.done())
		r.fail(ErrorCode::Malformed, "trailing bytes after the message");
	if (!r.ok())
		return bad(r.error(), r.why());
	Decoded d;
	d.status = DecodeStatus::Ok;
	d.consumed = frame.size();
	d.message = std::move(msg);
	return d;
}

void encode(const Message& msg, std::vector<std::byte>& out)
{
	std::size_t start = out.size();
	Writer w(out);
	w.u16(kMagic);
	w.u8(kVersion);
	w.u8(static_cast<std::uint8_t>(type_of(msg)));
	w.u32(0); // patched below
	std::visit([&](const auto& m) { put_body(w, m); }, msg);
	std::size_t len = out.size() - start - kHeaderSize;
	assert(len <= kMaxPayload);
	for (int i = 0; i < 4; i++)
		out[start + 4 + i] = std::byte(static_cast<std::uint8_t>(len >> (24 - 8 * i)));
}

std::vector<std::byte> encode(const Message& msg)
{
	std::vector<std::byte> out;
	encode(msg, out);
	return out;
}

} // namespace p2p
