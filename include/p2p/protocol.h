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

inline constexpr std::uint16_t kIndexPort = 60000;
inline constexpr std::uint16_t kPeerPortBase = 60000;

enum class MsgType : std::uint8_t {
	// peer -> index
	Register = 0x01,
	Update = 0x02,
	Unregister = 0x03,
	// client -> index
	Lookup = 0x04,
	LookupReply = 0x05,
	List = 0x06,
	ListReply = 0x07,
	Stats = 0x08,
	StatsReply = 0x09,
	// either direction, any connection
	Ping = 0x0a,
	Pong = 0x0b,
	Ok = 0x0e,
	Error = 0x0f,
	// peer <-> index: proving the key a registration is bound to
	Hello = 0x10,     // peer: I will sign my registration
	Challenge = 0x11, // index: the nonce to sign
	Identify = 0x12,  // peer: public key and signature; REGISTER follows
	// client -> peer
	ManifestRequest = 0x20,
	Manifest = 0x21,
	ChunkRequest = 0x22,
	ChunkData = 0x23, // followed by `length` raw bytes outside the frame
};

enum class ErrorCode : std::uint16_t {
	None = 0,
	BadMagic = 1,
	BadVersion = 2,
	UnknownType = 3,
	TooLarge = 4,
	Malformed = 5,      // payload does not match the message layout
	BadName = 6,        // absolute, "..", NUL, leading '.', too long
	NotRegistered = 7,  // update/unregister before register
	AddressInUse = 8,   // (host, port) held by another live connection
	NotFound = 9,       // name not in the index / not shared by this peer
	Changed = 10,       // file changed since it was hashed: data refused
	BadRange = 11,      // offset/length outside the file or too long
	Busy = 12,          // connection or resource limit reached
	Timeout = 13,       // idle or incomplete frame for too long
	Internal = 14,
	Shutdown = 15,      // server is stopping
	BadAuth = 16,       // closed cluster: frame MAC missing or wrong
	BadSignature = 17,  // IDENTIFY signature does not verify
};

const char* error_code_name(ErrorCode code);
const char* msg_type_name(MsgType type);

} // namespace p2p
