// Names of message types and error codes, for logs and error messages.
#include "p2p/protocol.h"

namespace p2p {

const char* error_code_name(ErrorCode code)
{
	switch (code) {
#define P2P_ERROR_NAME(Name, code, text) \
	case ErrorCode::Name: return text;
		P2P_ERRORS(P2P_ERROR_NAME)
#undef P2P_ERROR_NAME
	}
	return "unknown";
}

const char* msg_type_name(MsgType type)
{
	switch (type) {
#define P2P_MSG_NAME(Name, id, wire) \
	case MsgType::Name: return wire;
		P2P_MESSAGES(P2P_MSG_NAME)
#undef P2P_MSG_NAME
	}
	return "UNKNOWN";
}

} // namespace p2p
