// libFuzzer target: the framing step over a byte stream, read as a
// transport reads it. Byte 0 picks the mode (odd: a closed cluster, with
// the fixed key below; the seeds carry frames sealed with it, counters
// from 0), byte 1 where the stream is cut in two reads, the rest is the
// stream. The step must never answer past its input, a Frame must be its
// header and payload (and used must add the MAC), NeedMore must ask for
// more than it has, and the cut must not change a single verdict.
#include "p2p/frame-step.h"

#include <cstdlib>
#include <optional>
#include <vector>

namespace {

struct Run {
	std::vector<std::vector<std::byte>> frames;
	std::optional<p2p::ErrorCode> bad;
	std::size_t left = 0;
};

void require(bool ok)
{
	if (!ok)
		std::abort();
}

void check(const p2p::FrameStep& s, std::span<const std::byte> buf, bool secret)
{
	if (s.need_more()) {
		require(s.need > buf.size());
		require(!s.awaiting_mac || (secret && buf.size() >= p2p::kHeaderSize + s.header.length));
		return;
	}
	if (s.is_frame()) {
		require(s.frame.data() == buf.data());
		require(s.frame.size() == p2p::kHeaderSize + s.header.length);
		require(s.used == s.frame.size() + (secret ? p2p::kMacSize : 0));
		require(s.used <= buf.size());
		require(s.header.length <= p2p::kMaxPayload);
	}
}

// Steps over `in` delivered in two reads, split at `cut`, keeping what is
// left as a flat-buffer reader does.
Run frame_all(std::span<const std::byte> in, bool secret, std::size_t cut)
{
	p2p::SecretKey key;
	key.fill(0x5a);
	std::optional<p2p::FrameAuth> auth;
	if (secret)
		auth.emplace(key, false);
	Run r;
	std::vector<std::byte> buf;
	for (auto part : {in.first(cut), in.subspan(cut)}) {
		buf.insert(buf.end(), part.begin(), part.end());
		while (!r.bad) {
			p2p::FrameStep s = p2p::frame_step(buf, auth ? &*auth : nullptr);
			check(s, buf, secret);
			if (s.is_bad())
				r.bad = s.bad.code;
			if (!s.is_frame())
				break;
			(void)p2p::decode_frame(s.header.type, s.frame);
			r.frames.emplace_back(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(s.used));
			buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(s.used));
		}
		if (r.bad)
			break;
	}
	r.left = buf.size();
	return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
	if (size < 2 || size - 2 > 4 * (p2p::kMaxPayload + p2p::kHeaderSize))
		return 0;
	bool secret = data[0] & 1;
	std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 2), size - 2);
	std::size_t cut = data[1] % (in.size() + 1);
	Run whole = frame_all(in, secret, in.size());
	Run split = frame_all(in, secret, cut);
	require(whole.frames == split.frames);
	require(whole.bad == split.bad);
	require(whole.bad || whole.left == split.left);
	return 0;
}
