// Names of message types and error codes, for logs and error messages.
#include "p2p/protocol.h"

namespace p2p {

const char* error_code_name(ErrorCode code)
{
	switch (code) {
	case ErrorCode::None: return "none";
	case ErrorCode::BadMagic: return "bad-magic";
	case ErrorCode::BadVersion: return "bad-version";
	case ErrorCode::UnknownType: return "unknown-type";
	case ErrorCode::TooLarge: return "too-large";
	case ErrorCode::Malformed: return "malformed";
	case ErrorCode::BadName: return "bad-name";
	case ErrorCode::NotRegistered: return "not-registered";
	case ErrorCode::AddressInUse: return "address-in-use";
	case ErrorCode::NotFound: return "not-found";
	case ErrorCode::Changed: return "changed";
	case ErrorCode::BadRange: return "bad-range";
	case ErrorCode::Busy: return "busy";
	case ErrorCode::Timeout: return "timeout";
	case ErrorCode::Internal: return "internal";
	case ErrorCode::Shutdown: return "shutdown";
	case ErrorCode::BadAuth: return "bad-auth";
	case ErrorCode::BadSignature: return "bad-signature";
	}
	return "unknown";
}

const char* msg_type_name(MsgType type)
{
	switch (type) {
	case MsgType::Register: return "REGISTER";
	case MsgType::Update: return "UPDATE";
	case MsgType::Unregister: return "UNREGISTER";
	case MsgType::Lookup: return "LOOKUP";
	case MsgType::LookupReply: return "LOOKUP_REPLY";
	case MsgType::List: return "LIST";
	case MsgType::ListReply: return "LIST_REPLY";
	case MsgType::Stats: return "STATS";
	case MsgType::StatsReply: return "STATS_REPLY";
	case MsgType::Ping: return "PING";
	case MsgType::Pong: return "PONG";
	case MsgType::Ok: return "OK";
	case MsgType::Error: return "ERROR";
	case MsgType::Hello: return "HELLO";
	case MsgType::Challenge: return "CHALLENGE";
	case MsgType::Identify: return "IDENTIFY";
	case MsgType::ManifestRequest: return "MANIFEST_REQUEST";
	case MsgType::Manifest: return "MANIFEST";
	case MsgType::ChunkRequest: return "CHUNK_REQUEST";
	case MsgType::ChunkData: return "CHUNK_DATA";
	}
	return "UNKNOWN";
}

} // namespace p2p
