// The one framing step every transport calls: given the bytes buffered so
// far (starting at a frame boundary) and the connection's MAC state, say
// "need more", "bad" or "one frame, MAC verified". Pure: no I/O, no clock.
// The order of checks is the protocol's: magic byte 0, magic byte 1,
// version, known type, length <= 1 MiB (each as soon as its byte is in),
// then, in a closed cluster, the MAC over header and payload, before any
// payload is parsed (codec.h decodes the payload afterwards).
//
// FrameWatch, beside it, keeps the two deadlines of a connection that the
// steps' answers imply: a begun frame must complete in time, and a whole
// frame must not wait for its MAC longer than kMacGrace.
//
// Every refusal wording of the framing layer is in frame-step.cc, once.
#pragma once

#include "p2p/codec.h"
#include "p2p/frame-auth.h"
#include "p2p/protocol.h"

#include <cstddef>
#include <limits>
#include <optional>
#include <span>

namespace p2p {

// A refusal: the code of the Error frame to send and its one text.
struct Refusal {
	ErrorCode code = ErrorCode::None;
	const char* why = "";
};

// The refusals of the framing layer, by cause.
enum class FrameFault { BadMagic, BadVersion, UnknownType, TooLarge, BadMac, MacMissing, FrameTimeout };
Refusal refusal(FrameFault fault);

struct FrameStep {
	enum class Kind { NeedMore, Bad, Frame };
	Kind kind = Kind::NeedMore;
	// NeedMore: the bytes (counted from the start) to give before the
	// answer can change, other than by a bad header byte: kHeaderSize,
	// then the end of the frame, then (closed cluster) the end of its MAC.
	// A reader pulls up min(buffered, need) and steps again once it has it.
	std::size_t need = kHeaderSize;
	// NeedMore: a whole frame is here and only its MAC is missing.
	bool awaiting_mac = false;
	// Bad: what to send, then close.
	Refusal bad;
	// Set once the whole header is in (NeedMore past kHeaderSize, Frame).
	FrameHeader header{};
	// Frame: header + payload, MAC verified; a view into the input.
	std::span<const std::byte> frame;
	// Frame: bytes to consume, the MAC included (the raw bytes that follow
	// a CHUNK_DATA frame are the caller's, not counted here).
	std::size_t used = 0;

	bool need_more() const { return kind == Kind::NeedMore; }
	bool is_bad() const { return kind == Kind::Bad; }
	bool is_frame() const { return kind == Kind::Frame; }
	std::span<const std::byte> payload() const { return frame.subspan(kHeaderSize); }
};

// `auth`: the connection's MAC state, or null without a secret. A Frame
// answer advances its receive counter: consume `used` bytes before the
// next step.
FrameStep frame_step(std::span<const std::byte> bytes, FrameAuth* auth);

// The deadlines of one connection, clock passed in (monotonic seconds).
// After each read's steps the transport reports what they left behind;
// it arms one timer for due() and asks verdict() when it fires (or polls).
class FrameWatch {
public:
	static constexpr double kNever = std::numeric_limits<double>::infinity();

	// `frame_deadline`: seconds a begun frame may take to complete (0: no
	// limit). The MAC grace is kMacGrace (frame-auth.h) everywhere.
	explicit FrameWatch(double frame_deadline = 0) : deadline_(frame_deadline) {}
	void set_frame_deadline(double seconds) { deadline_ = seconds; }

	// `pending`: bytes of an unfinished frame (or raw bytes still owed) are
	// buffered; `awaiting_mac`: the last step said so; `completed`: at least
	// one frame was completed since the last report.
	void update(bool pending, bool awaiting_mac, bool completed, double now);
	// Input is paused by us: what is still in the socket (the rest of the
	// frame, its MAC) is our own doing, so both waits start again from now.
	void hold(double now);
	// When the next verdict can be due (kNever: nothing pending).
	double due() const;
	// Due at `now`: BadAuth when a whole frame has waited kMacGrace for its
	// MAC (or reaches the frame deadline still waiting for it), Timeout when
	// a frame was not completed within the deadline; else nullopt.
	std::optional<Refusal> verdict(double now) const;

	// Since when a begun frame has been pending, and since when a whole
	// frame has waited for its MAC.
	std::optional<double> partial_since() const { return partial_since_; }
	std::optional<double> mac_since() const { return mac_since_; }

private:
	double deadline_;
	std::optional<double> partial_since_;
	std::optional<double> mac_since_;
};

} // namespace p2p
