// Every message of the protocol as a plain struct, and Message, the variant
// of all of them in the order of the table in protocol.h. Layouts are in
// codec.cc and man/p2p-protocol.7.
#pragma once

#include "p2p/hash.h"
#include "p2p/protocol.h"

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace p2p {

// An IPv6 address, or an IPv4 one in its mapped form ::ffff:a.b.c.d.
using IpBytes = std::array<std::uint8_t, 16>;

struct FileEntry {
	std::string name;
	std::uint64_t size = 0;
	Hash hash{};
	bool operator==(const FileEntry&) const = default;
};

// A peer announces the port it serves chunks on and a first page of files;
// the rest follow as Update frames. The index takes the host from the
// connection, never from the message.
struct Register {
	std::uint16_t port = 0;
	std::vector<FileEntry> files;
	bool operator==(const Register&) const = default;
};

struct Update {
	std::vector<FileEntry> added; // new, or changed (replaces same name)
	std::vector<std::string> removed;
	bool operator==(const Update&) const = default;
};

struct Unregister {
	bool operator==(const Unregister&) const = default;
};

struct Lookup {
	std::string name;
	bool operator==(const Lookup&) const = default;
};

struct PeerHolding {
	IpBytes host{};
	std::uint16_t port = 0;
	std::uint64_t size = 0;
	Hash hash{};
	std::uint32_t chunks = kCompleteHolding; // verified chunks of a partial holder
	bool complete() const { return chunks == kCompleteHolding; }
	bool operator==(const PeerHolding&) const = default;
};

struct LookupReply {
	std::string name;
	std::vector<PeerHolding> peers; // empty: no peer holds the name
	bool operator==(const LookupReply&) const = default;
};

// Names strictly after `after` (byte order), at most `limit` names a page.
struct List {
	std::string after;
	std::uint32_t limit = kMaxListPage;
	bool operator==(const List&) const = default;
};

struct ListEntry {
	std::string name;
	std::uint64_t size = 0;
	Hash hash{};
	std::uint32_t peers = 0;
	bool operator==(const ListEntry&) const = default;
};

// One entry per (name, hash) version. `more`: ask again with after = last name.
struct ListReply {
	bool more = false;
	std::vector<ListEntry> entries;
	bool operator==(const ListReply&) const = default;
};

struct Stats {
	bool operator==(const Stats&) const = default;
};

struct StatsReply {
	std::vector<std::pair<std::string, std::uint64_t>> counters;
	bool operator==(const StatsReply&) const = default;
};

struct Ping {
	std::uint64_t token = 0;
	bool operator==(const Ping&) const = default;
};

struct Pong {
	std::uint64_t token = 0;
	bool operator==(const Pong&) const = default;
};

// Acknowledges Register, Update or Unregister.
struct Ok {
	MsgType of = MsgType::Register;
	bool operator==(const Ok&) const = default;
};

// `ref` is the id of the ChunkRequest it answers, else 0.
struct Error {
	ErrorCode code = ErrorCode::None;
	std::uint32_t ref = 0;
	std::string text;
	bool operator==(const Error&) const = default;
};

// Peer identity (see identity.h): HELLO asks for a CHALLENGE; IDENTIFY
// carries the peer's Ed25519 key and its signature over the nonce and the
// REGISTER that must come next on the connection.
struct Hello {
	bool operator==(const Hello&) const = default;
};

struct Challenge {
	std::array<std::uint8_t, kNonceSize> nonce{};
	bool operator==(const Challenge&) const = default;
};

struct Identify {
	std::array<std::uint8_t, kPublicKeySize> public_key{};
	std::array<std::uint8_t, kSignatureSize> signature{};
	bool operator==(const Identify&) const = default;
};

// A registered peer holds part of a file: `chunks` of its chunks, verified.
struct PartialEntry {
	FileEntry file;
	std::uint32_t chunks = 0;
	bool operator==(const PartialEntry&) const = default;
};

// Adds or replaces each name as a partial holding (UPDATE's `added` makes
// it complete, its `removed` drops it). Not acknowledged.
struct UpdatePartial {
	std::vector<PartialEntry> entries;
	bool operator==(const UpdatePartial&) const = default;
};

// LOOKUP that also lists partial holders, in a HOLDERS_REPLY.
struct LookupHolders {
	std::string name;
	bool operator==(const LookupHolders&) const = default;
};

struct HoldersReply {
	std::string name;
	std::vector<PeerHolding> peers; // complete and partial, each with `chunks`
	bool operator==(const HoldersReply&) const = default;
};

struct ManifestRequest {
	std::string name;
	std::uint32_t first_chunk = 0;
	bool operator==(const ManifestRequest&) const = default;
};

// One page of a file's chunk hashes, starting at first_chunk.
struct Manifest {
	std::string name;
	std::uint64_t size = 0;
	std::uint32_t chunk_size = kChunkSize;
	Hash content_hash{};
	std::uint32_t chunk_count = 0;
	std::uint32_t first_chunk = 0;
	std::vector<Hash> chunk_hashes;
	bool operator==(const Manifest&) const = default;
};

// Asks for `length` bytes at `offset` of the version of `name` whose
// content hash is `content_hash`; any other version gets Error Changed.
struct ChunkRequest {
	std::uint32_t id = 0;
	std::string name;
	Hash content_hash{};
	std::uint64_t offset = 0;
	std::uint32_t length = 0;
	bool operator==(const ChunkRequest&) const = default;
};

// The frame is followed on the stream by exactly `length` raw bytes.
struct ChunkData {
	std::uint32_t id = 0;
	std::uint64_t offset = 0;
	std::uint32_t length = 0;
	bool operator==(const ChunkData&) const = default;
};

// Asks a chunk server which chunks of this version of `name` it has, and to
// announce each chunk it verifies later on this connection.
struct HaveRequest {
	std::string name;
	std::uint64_t size = 0;
	Hash content_hash{};
	bool operator==(const HaveRequest&) const = default;
};

struct HaveMap {
	std::string name;
	std::vector<bool> have; // one per chunk
	bool operator==(const HaveMap&) const = default;
};

// The server verified one more chunk of `name` (after a HAVE_MAP of it).
struct Have {
	std::string name;
	std::uint32_t chunk = 0;
	bool operator==(const Have&) const = default;
};

// The server's owner has asked a complete holder for `chunk` of `name`
// (after a HAVE_MAP of it): others may wait for its HAVE instead of asking
// a complete holder for the same chunk.
struct Fetching {
	std::string name;
	std::uint32_t chunk = 0;
	bool operator==(const Fetching&) const = default;
};

// A CHUNK_REQUEST from a downloader sharing a seed with others: answered
// as one, unless the server sent that chunk to another client moments ago;
// then ERROR taken (ref = id), and the chunk is to be had from that client.
struct ChunkRequestSpare : ChunkRequest {
	bool operator==(const ChunkRequestSpare&) const = default;
};

namespace detail {
// std::variant of the table's structs in table order: the trailing
// ListEnd only absorbs the X-macro's last comma.
struct ListEnd;
template <typename V, typename... T>
struct TableVariant;
template <typename... Done>
struct TableVariant<std::variant<Done...>, ListEnd> {
	using type = std::variant<Done...>;
};
template <typename... Done, typename Next, typename... Rest>
struct TableVariant<std::variant<Done...>, Next, Rest...> : TableVariant<std::variant<Done..., Next>, Rest...> {
};
} // namespace detail

#define P2P_MSG_ALTERNATIVE(Name, id, wire) Name,
using Message = detail::TableVariant<std::variant<>, P2P_MESSAGES(P2P_MSG_ALTERNATIVE) detail::ListEnd>::type;
#undef P2P_MSG_ALTERNATIVE

MsgType type_of(const Message& msg);

} // namespace p2p
