// The wire codec: bytes in, messages out. No sockets, no libevent, no
// exceptions for bad input: a bad frame comes back as a value.
#pragma once

#include "p2p/message.h"

#include <cstddef>
#include <span>
#include <vector>

namespace p2p {

enum class DecodeStatus { NeedMore, Ok, Bad };

struct Decoded {
	DecodeStatus status = DecodeStatus::NeedMore;
	std::size_t consumed = 0;         // bytes of one whole frame when Ok
	Message message;                  // valid when Ok
	ErrorCode error = ErrorCode::None; // set when Bad
	const char* why = "";             // set when Bad: a short reason
};

// Decodes the first frame in `bytes`. NeedMore means no verdict yet and
// never consumes; Bad is reported as soon as the header shows it (wrong
// magic or version, oversized length), without waiting for the payload.
Decoded decode(std::span<const std::byte> bytes);

// Decodes a frame whose header (and MAC) the framing step has accepted
// (frame-step.h): `frame` is header + payload, `type` its header's type.
Decoded decode_frame(MsgType type, std::span<const std::byte> frame);

// True for a message type this version knows; the framing step refuses
// the others at the header's fourth byte.
bool is_known_type(std::uint8_t type);

// Reads just the header: the payload length when the first kHeaderSize bytes
// are a valid header, so a reader can size its buffer before the body.
struct FrameHeader {
	MsgType type;
	std::uint32_t length;
};
Decoded check_header(std::span<const std::byte> bytes, FrameHeader& out);

// Appends one frame. The caller keeps within the limits of protocol.h
// (pages, name lengths); encode asserts rather than emit an invalid frame.
void encode(const Message& msg, std::vector<std::byte>& out);
std::vector<std::byte> encode(const Message& msg);

// Bytes a FileEntry takes in Register/Update, for filling pages.
inline constexpr std::size_t file_entry_wire_size(std::size_t name_len)
{
	return 2 + name_len + 8 + kHashSize;
}

} // namespace p2p
