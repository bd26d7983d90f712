// Wire protocol constants: frame layout, message ids, limits, error codes.
// man/p2p-protocol.7 is the prose version of this file; change both together,
// and bump kVersion when the encoding of an existing message changes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace p2p {

// Frame header, 8 bytes, all integers big-endian:
//   u16 magic 'P2' | u8 version | u8 type | u32 payload length
inline constexpr std::uint16_t kMagic = 0x5032;
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 8;

// Limits. A frame longer than kMaxPayload is refused before it is buffered.
inline constexpr std::size_t kMaxPayload = 1u << 20;          // 1 MiB
inline constexpr std::size_t kMaxName = 4096;                 // bytes, UTF-8
inline constexpr std::size_t kMaxMessageText = 1024;          // ERROR text
inline constexpr std::uint32_t kChunkSize = 2u << 20;         // 2 MiB default
inline constexpr std::uint32_t kMaxChunkLength = 16u << 20;   // per CHUNK_REQ
inline constexpr std::uint32_t kMaxManifestPage = 16384;      // hashes/frame
inline constexpr std::uint32_t kMaxListPage = 4096;           // entries/frame
inline constexpr std::uint32_t kMaxLookupPeers = 4096;        // peers/reply
inline constexpr std::uint32_t kMaxStats = 256;               // counters/reply
inline constexpr std::size_t kHashSize = 32;                  // BLAKE2b-256
inline constexpr std::size_t kMacSize = 32;                   // crypto_auth tag
inline constexpr std::size_t kNonceSize = 32;
inline constexpr std::size_t kPublicKeySize = 32;             // Ed25519
inline constexpr std::size_t kSignatureSize = 64;             // Ed25519
// One holding in LOOKUP_REPLY: ip, port, size, content hash.
inline constexpr std::size_t kPeerHoldingSize = 16 + 2 + 8 + kHashSize;

// One holding in HOLDERS_REPLY: a LOOKUP_REPLY holding and its chunk count.
inline constexpr std::size_t kHolderSize = kPeerHoldingSize + 4;
// HOLDERS_REPLY's chunk count of a holder that has the whole file.
inline constexpr std::uint32_t kCompleteHolding = 0xffffffff;

// Feature bits: what a side speaks beyond the base messages of this
// version, stated as the STATS_REPLY key "features" (absent means 0), so a
// client can learn it before it sends anything optional. p2p-protocol.7,
// "Feature bits", assigns them.
inline constexpr std::uint64_t kFeaturePartialHolders = 1u << 0; // an index: UPDATE_PARTIAL, LOOKUP_HOLDERS
inline constexpr std::uint64_t kFeatureChunkMaps = 1u << 1;      // a chunk server: HAVE_REQUEST
inline constexpr std::uint64_t kFeatureSpareRequests = 1u << 2;  // a chunk server: CHUNK_REQUEST_SPARE

// How long a chunk server counts a chunk as just sent to one client: a
// CHUNK_REQUEST_SPARE for it from another within this is answered "taken".
inline constexpr double kSpareWindow = 5.0;

inline constexpr std::uint16_t kIndexPort = 60000;
inline constexpr std::uint16_t kPeerPortBase = 60000;

// The message table: struct name, type id, name on the wire and in logs.
// It drives MsgType, the Message variant (in this order), type_of,
// known_type, msg_type_name and the codec's dispatch, so a new message is
// one line here, its struct in message.h and its layout in codec.cc.
#define P2P_MESSAGES(X)                                                              \
	/* peer -> index */                                                          \
	X(Register, 0x01, "REGISTER")                                                \
	X(Update, 0x02, "UPDATE")                                                    \
	X(Unregister, 0x03, "UNREGISTER")                                            \
	/* client -> index */                                                        \
	X(Lookup, 0x04, "LOOKUP")                                                    \
	X(LookupReply, 0x05, "LOOKUP_REPLY")                                         \
	X(List, 0x06, "LIST")                                                        \
	X(ListReply, 0x07, "LIST_REPLY")                                             \
	X(Stats, 0x08, "STATS")                                                      \
	X(StatsReply, 0x09, "STATS_REPLY")                                           \
	/* either direction, any connection */                                       \
	X(Ping, 0x0a, "PING")                                                        \
	X(Pong, 0x0b, "PONG")                                                        \
	X(Ok, 0x0e, "OK")                                                            \
	X(Error, 0x0f, "ERROR")                                                      \
	/* peer <-> index: proving the key a registration is bound to */             \
	X(Hello, 0x10, "HELLO")                                                      \
	X(Challenge, 0x11, "CHALLENGE")                                              \
	X(Identify, 0x12, "IDENTIFY")                                                \
	/* swarming: partial holders (feature kFeaturePartialHolders) */              \
	X(UpdatePartial, 0x13, "UPDATE_PARTIAL")                                     \
	X(LookupHolders, 0x14, "LOOKUP_HOLDERS")                                     \
	X(HoldersReply, 0x15, "HOLDERS_REPLY")                                       \
	/* client -> peer; CHUNK_DATA is followed by `length` raw bytes */           \
	X(ManifestRequest, 0x20, "MANIFEST_REQUEST")                                 \
	X(Manifest, 0x21, "MANIFEST")                                                \
	X(ChunkRequest, 0x22, "CHUNK_REQUEST")                                       \
	X(ChunkData, 0x23, "CHUNK_DATA")                                             \
	/* client <-> chunk server: who has which chunk (kFeatureChunkMaps) */      \
	X(HaveRequest, 0x24, "HAVE_REQUEST")                                         \
	X(HaveMap, 0x25, "HAVE_MAP")                                                 \
	X(Have, 0x26, "HAVE")                                                        \
	X(Fetching, 0x27, "FETCHING")                                                \
	/* client -> chunk server: a chunk unless sent elsewhere just now         \
	   (kFeatureSpareRequests) */                                              \
	X(ChunkRequestSpare, 0x28, "CHUNK_REQUEST_SPARE")

enum class MsgType : std::uint8_t {
#define P2P_MSG_ENUM(Name, id, wire) Name = id,
	P2P_MESSAGES(P2P_MSG_ENUM)
#undef P2P_MSG_ENUM
};

// Whether `type` is a message of this version.
constexpr bool known_type(std::uint8_t type)
{
	switch (type) {
#define P2P_MSG_CASE(Name, id, wire) case id:
		P2P_MESSAGES(P2P_MSG_CASE)
#undef P2P_MSG_CASE
		return true;
	}
	return false;
}

// Error codes: enum name, code, name in logs.
#define P2P_ERRORS(X)                                                                \
	X(None, 0, "none")                                                           \
	X(BadMagic, 1, "bad-magic")                                                  \
	X(BadVersion, 2, "bad-version")                                              \
	X(UnknownType, 3, "unknown-type")                                            \
	X(TooLarge, 4, "too-large")                                                  \
	X(Malformed, 5, "malformed")         /* payload does not match the layout */ \
	X(BadName, 6, "bad-name")            /* absolute, "..", NUL, '.', too long */ \
	X(NotRegistered, 7, "not-registered") /* update before register */          \
	X(AddressInUse, 8, "address-in-use") /* (host, port) held by another */     \
	X(NotFound, 9, "not-found")          /* not in the index / not shared */    \
	X(Changed, 10, "changed")            /* file changed since it was hashed */ \
	X(BadRange, 11, "bad-range")         /* offset/length outside the file */   \
	X(Busy, 12, "busy")                  /* connection or resource limit */     \
	X(Timeout, 13, "timeout")            /* idle or incomplete frame */         \
	X(Internal, 14, "internal")                                                  \
	X(Shutdown, 15, "shutdown")          /* the sender is stopping */           \
	X(BadAuth, 16, "bad-auth")           /* closed cluster: MAC missing/wrong */ \
	X(BadSignature, 17, "bad-signature") /* IDENTIFY signature does not verify */ \
	X(Unavailable, 18, "unavailable")    /* the index's store cannot be reached */ \
	X(Taken, 19, "taken")                /* sent to another downloader just now */

enum class ErrorCode : std::uint16_t {
#define P2P_ERROR_ENUM(Name, code, text) Name = code,
	P2P_ERRORS(P2P_ERROR_ENUM)
#undef P2P_ERROR_ENUM
};

const char* error_code_name(ErrorCode code);
const char* msg_type_name(MsgType type);

} // namespace p2p
