// The framing step and the frame deadlines; see frame-step.h.
#include "p2p/frame-step.h"

#include <algorithm>

namespace p2p {
namespace {

static_assert(kMacGrace == 2.0, "the MAC-missing wording below names the grace");

FrameStep bad_step(FrameFault fault)
{
	FrameStep s;
	s.kind = FrameStep::Kind::Bad;
	s.bad = refusal(fault);
	return s;
}

// The header as far as it has arrived, so garbage is refused at its first
// byte instead of after a stall. Null when nothing seen is wrong.
std::optional<FrameFault> header_fault(std::span<const std::byte> bytes)
{
	auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
	std::size_t n = bytes.size();
	if (n >= 1 && at(0) != (kMagic >> 8))
		return FrameFault::BadMagic;
	if (n >= 2 && at(1) != (kMagic & 0xff))
		return FrameFault::BadMagic;
	if (n >= 3 && at(2) != kVersion)
		return FrameFault::BadVersion;
	if (n >= 4 && !is_known_type(at(3)))
		return FrameFault::UnknownType;
	return std::nullopt;
}

} // namespace

Refusal refusal(FrameFault fault)
{
	switch (fault) {
	case FrameFault::BadMagic: return {ErrorCode::BadMagic, "bad magic"};
	case FrameFault::BadVersion: return {ErrorCode::BadVersion, "unsupported protocol version"};
	case FrameFault::UnknownType: return {ErrorCode::UnknownType, "unknown message type"};
	case FrameFault::TooLarge: return {ErrorCode::TooLarge, "frame larger than 1 MiB"};
	case FrameFault::BadMac: return {ErrorCode::BadAuth, "frame MAC missing or wrong (is the secret the same?)"};
	case FrameFault::MacMissing: return {ErrorCode::BadAuth, "frame MAC missing after 2 s (is the secret the same?)"};
	case FrameFault::FrameTimeout: return {ErrorCode::Timeout, "frame not completed in time"};
	}
	return {ErrorCode::Internal, "unknown framing fault"};
}

FrameStep frame_step(std::span<const std::byte> bytes, FrameAuth* auth)
{
	if (auto fault = header_fault(bytes))
		return bad_step(*fault);
	FrameStep s;
	if (bytes.size() < kHeaderSize)
		return s;
	auto at = [&](std::size_t i) { return std::to_integer<std::uint32_t>(bytes[i]); };
	s.header = {static_cast<MsgType>(at(3)), at(4) << 24 | at(5) << 16 | at(6) << 8 | at(7)};
	if (s.header.length > kMaxPayload)
		return bad_step(FrameFault::TooLarge);
	std::size_t end = kHeaderSize + s.header.length;
	if (bytes.size() < end) {
		s.need = end;
		return s;
	}
	if (auth) {
		// Authenticated before anything parses the payload.
		if (bytes.size() < end + kMacSize) {
			s.need = end + kMacSize;
			s.awaiting_mac = true;
			return s;
		}
		if (!auth->verify(bytes.first(end), bytes.subspan(end, kMacSize)))
			return bad_step(FrameFault::BadMac);
	}
	s.kind = FrameStep::Kind::Frame;
	s.frame = bytes.first(end);
	s.used = end + (auth ? kMacSize : 0);
	return s;
}

void FrameWatch::update(bool pending, bool awaiting_mac, bool completed, double now)
{
	// A frame's clock starts at its first byte, or when the frame before it
	// completed, and is not reset by each byte that trickles in.
	if (!pending)
		partial_since_.reset();
	else if (completed || !partial_since_)
		partial_since_ = now;
	if (!awaiting_mac)
		mac_since_.reset();
	else if (completed || !mac_since_)
		mac_since_ = now;
}

void FrameWatch::hold(double now)
{
	if (partial_since_)
		partial_since_ = now;
	if (mac_since_)
		mac_since_ = now;
}

double FrameWatch::due() const
{
	double due = kNever;
	if (mac_since_)
		due = *mac_since_ + kMacGrace;
	if (partial_since_ && deadline_ > 0)
		due = std::min(due, *partial_since_ + deadline_);
	return due;
}

std::optional<Refusal> FrameWatch::verdict(double now) const
{
	// Compared as due() computes them, so a timer armed for due() finds
	// its verdict.
	bool late = partial_since_ && deadline_ > 0 && now >= *partial_since_ + deadline_;
	// A whole frame without its MAC is a sender without the secret, told so
	// even when the frame deadline comes first.
	if (mac_since_ && (late || now >= *mac_since_ + kMacGrace))
		return refusal(FrameFault::MacMissing);
	if (late)
		return refusal(FrameFault::FrameTimeout);
	return std::nullopt;
}

} // namespace p2p
