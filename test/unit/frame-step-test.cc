// The framing step driven byte by byte and split at every point, with and
// without a secret, and the frame deadlines on a fake clock.
#include "p2p/frame-step.h"

#include <catch2/catch.hpp>

#include <optional>

using namespace p2p;

namespace {

SecretKey key_of(std::uint8_t b)
{
	SecretKey k;
	k.fill(b);
	return k;
}

std::vector<Message> samples()
{
	Hash h{};
	h.fill(3);
	return {Lookup{"a/b"}, Ping{7}, Stats{}, Register{60001, {{"x.bin", 10, h}}}, Error{ErrorCode::NotFound, 2, "no"}};
}

// The bytes a sender puts on the wire: each frame, then its MAC when sealed.
std::vector<std::byte> wire(const std::vector<Message>& msgs, const SecretKey* key)
{
	std::optional<FrameAuth> auth;
	if (key)
		auth.emplace(*key, true);
	std::vector<std::byte> out;
	for (const auto& m : msgs) {
		std::size_t start = out.size();
		encode(m, out);
		if (auth)
			auth->append_mac(out, start);
	}
	return out;
}

// A receiver with a flat buffer: steps over what it has, keeps what is left.
struct Reader {
	std::optional<FrameAuth> auth;
	std::vector<std::byte> buf;
	std::vector<Message> got;
	std::optional<Refusal> bad;
	FrameStep last;

	explicit Reader(const SecretKey* key)
	{
		if (key)
			auth.emplace(*key, false);
	}
	void feed(std::span<const std::byte> bytes)
	{
		REQUIRE_FALSE(bad);
		buf.insert(buf.end(), bytes.begin(), bytes.end());
		while (!bad) {
			last = frame_step(buf, auth ? &*auth : nullptr);
			if (last.is_bad()) {
				bad = last.bad;
				return;
			}
			if (last.need_more()) {
				CHECK(last.need > buf.size());
				return;
			}
			REQUIRE(last.frame.data() == buf.data());
			REQUIRE(last.frame.size() == kHeaderSize + last.header.length);
			Decoded d = decode_frame(last.header.type, last.frame);
			REQUIRE(d.status == DecodeStatus::Ok);
			got.push_back(d.message);
			buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(last.used));
		}
	}
};

std::vector<std::byte> sealed(const Message& m, FrameAuth& auth)
{
	auto f = encode(m);
	auth.append_mac(f);
	return f;
}

} // namespace

TEST_CASE("frame step: a good frame, prefix by prefix", "[frame-step]")
{
	const SecretKey key = key_of(1);
	for (const SecretKey* k : {static_cast<const SecretKey*>(nullptr), &key}) {
		INFO((k ? "with a secret" : "without"));
		for (const auto& m : samples()) {
			auto bytes = wire({m}, k);
			std::size_t end = encode(m).size();
			std::optional<FrameAuth> auth;
			if (k)
				auth.emplace(*k, false);
			for (std::size_t n = 0; n < bytes.size(); n++) {
				INFO(n);
				FrameStep s = frame_step({bytes.data(), n}, auth ? &*auth : nullptr);
				REQUIRE(s.need_more());
				CHECK(s.need == (n < kHeaderSize ? kHeaderSize : n < end ? end : end + kMacSize));
				CHECK(s.awaiting_mac == (k && n >= end));
				if (n >= kHeaderSize)
					CHECK(s.header.type == type_of(m));
			}
			FrameStep s = frame_step(bytes, auth ? &*auth : nullptr);
			REQUIRE(s.is_frame());
			CHECK(s.used == bytes.size());
			CHECK(s.header.type == type_of(m));
			CHECK(s.header.length == end - kHeaderSize);
			CHECK(s.payload().size() == s.header.length);
			CHECK(decode_frame(s.header.type, s.frame).status == DecodeStatus::Ok);
		}
	}
}

TEST_CASE("frame step: byte by byte and split at every point, two frames back to back", "[frame-step]")
{
	const SecretKey key = key_of(2);
	auto msgs = samples();
	for (const SecretKey* k : {static_cast<const SecretKey*>(nullptr), &key}) {
		INFO((k ? "with a secret" : "without"));
		auto bytes = wire(msgs, k);
		{ // byte by byte
			Reader r(k);
			for (std::byte b : bytes)
				r.feed({&b, 1});
			CHECK_FALSE(r.bad);
			CHECK(r.buf.empty());
			CHECK(r.got == msgs);
		}
		{ // every split point of two frames
			auto two = wire({msgs[0], msgs[3]}, k);
			for (std::size_t i = 0; i <= two.size(); i++) {
				INFO(i);
				Reader r(k);
				r.feed({two.data(), i});
				r.feed({two.data() + i, two.size() - i});
				CHECK_FALSE(r.bad);
				CHECK(r.buf.empty());
				CHECK(r.got == std::vector<Message>{msgs[0], msgs[3]});
			}
		}
	}
}

TEST_CASE("frame step: an evbuffer-style reader pulls up exactly what is needed", "[frame-step]")
{
	SecretKey key = key_of(3);
	auto bytes = wire(samples(), &key);
	FrameAuth auth(key, false);
	std::size_t pos = 0, frames = 0, steps = 0;
	while (pos < bytes.size()) {
		std::size_t avail = bytes.size() - pos, seen = std::min(avail, kHeaderSize);
		FrameStep s;
		for (;;) {
			steps++;
			s = frame_step({bytes.data() + pos, seen}, &auth);
			if (!s.need_more() || s.need > avail)
				break;
			seen = s.need;
		}
		REQUIRE(s.is_frame());
		pos += s.used;
		frames++;
	}
	CHECK(frames == samples().size());
	CHECK(steps <= 3 * frames); // header, frame, MAC: no more
}

TEST_CASE("frame step: each bad header byte is refused as soon as it arrives", "[frame-step]")
{
	SecretKey key = key_of(4);
	struct Case {
		std::size_t at;
		std::uint8_t value;
		FrameFault fault;
	};
	for (auto c : {Case{0, 'G', FrameFault::BadMagic}, Case{1, 'G', FrameFault::BadMagic},
	               Case{2, kVersion + 1, FrameFault::BadVersion}, Case{3, 0x0c, FrameFault::UnknownType},
	               Case{3, 0x00, FrameFault::UnknownType}, Case{3, 0x3f, FrameFault::UnknownType},
	               Case{4, 0x01, FrameFault::TooLarge}}) {
		INFO(c.at);
		for (bool secret : {false, true}) {
			FrameAuth auth(key, false);
			auto bytes = encode(Lookup{"abc"});
			bytes[c.at] = std::byte{c.value};
			std::size_t judged = c.at < 4 ? c.at + 1 : kHeaderSize;
			for (std::size_t n = 0; n <= bytes.size(); n++) {
				FrameStep s = frame_step({bytes.data(), n}, secret ? &auth : nullptr);
				if (n < judged) {
					CHECK(s.need_more());
					continue;
				}
				REQUIRE(s.is_bad());
				CHECK(s.bad.code == refusal(c.fault).code);
				CHECK(std::string(s.bad.why) == refusal(c.fault).why);
			}
		}
	}
	CHECK(refusal(FrameFault::BadMagic).code == ErrorCode::BadMagic);
	CHECK(refusal(FrameFault::BadVersion).code == ErrorCode::BadVersion);
	CHECK(refusal(FrameFault::UnknownType).code == ErrorCode::UnknownType);
	CHECK(refusal(FrameFault::TooLarge).code == ErrorCode::TooLarge);
}

TEST_CASE("frame step: the length limit is 1 MiB exactly", "[frame-step]")
{
	auto header = [](std::uint32_t len) {
		std::vector<std::byte> h{std::byte{0x50}, std::byte{0x32}, std::byte{kVersion}, std::byte{0x04}};
		for (int i = 0; i < 4; i++)
			h.push_back(std::byte(static_cast<std::uint8_t>(len >> (24 - 8 * i))));
		return h;
	};
	FrameStep at_limit = frame_step(header(kMaxPayload), nullptr);
	REQUIRE(at_limit.need_more());
	CHECK(at_limit.need == kHeaderSize + kMaxPayload);
	FrameStep over = frame_step(header(kMaxPayload + 1), nullptr);
	REQUIRE(over.is_bad());
	CHECK(over.bad.code == ErrorCode::TooLarge);
	CHECK(std::string(over.bad.why) == "frame larger than 1 MiB");
}

TEST_CASE("frame step: MACs missing, wrong, or out of order", "[frame-step][frame-auth]")
{
	SecretKey key = key_of(5);
	FrameAuth sender(key, true), receiver(key, false);
	SECTION("a whole frame without its MAC: need more, awaiting the MAC")
	{
		auto f = encode(Ping{1});
		FrameStep s = frame_step(f, &receiver);
		REQUIRE(s.need_more());
		CHECK(s.awaiting_mac);
		CHECK(s.need == f.size() + kMacSize);
	}
	SECTION("frames pipelined without MACs: the next frame's bytes are a wrong MAC")
	{
		auto bytes = wire({Ping{1}, Ping{2}, Ping{3}, Ping{4}, Ping{5}}, nullptr);
		FrameStep s = frame_step(bytes, &receiver);
		REQUIRE(s.is_bad());
		CHECK(s.bad.code == ErrorCode::BadAuth);
		CHECK(std::string(s.bad.why) == refusal(FrameFault::BadMac).why);
	}
	SECTION("a wrong MAC, each byte of it")
	{
		auto f = sealed(Lookup{"x"}, sender);
		for (std::size_t i = f.size() - kMacSize; i < f.size(); i++) {
			auto g = f;
			g[i] ^= std::byte{1};
			FrameStep s = frame_step(g, &receiver);
			REQUIRE(s.is_bad());
			CHECK(s.bad.code == ErrorCode::BadAuth);
		}
		CHECK(frame_step(f, &receiver).is_frame()); // refusals left the counter alone
	}
	SECTION("another secret")
	{
		FrameAuth other(key_of(6), true);
		CHECK(frame_step(sealed(Ping{1}, other), &receiver).is_bad());
	}
	SECTION("replayed or reordered")
	{
		auto f1 = sealed(Ping{1}, sender), f2 = sealed(Ping{2}, sender);
		CHECK(frame_step(f2, &receiver).is_bad());
		CHECK(frame_step(f1, &receiver).is_frame());
		CHECK(frame_step(f1, &receiver).is_bad()); // the same frame again
		CHECK(frame_step(f2, &receiver).is_frame());
	}
	SECTION("a MAC'd frame to a receiver without a secret: the MAC is a bad header")
	{
		auto bytes = sealed(Ping{1}, sender);
		FrameStep s = frame_step(bytes, nullptr);
		REQUIRE(s.is_frame());
		CHECK(s.used == bytes.size() - kMacSize);
		s = frame_step(std::span<const std::byte>(bytes).subspan(s.used), nullptr);
		CHECK(s.is_bad());
	}
}

TEST_CASE("frame step: a CHUNK_DATA header leaves its raw bytes to the caller", "[frame-step]")
{
	SecretKey key = key_of(7);
	for (bool secret : {false, true}) {
		FrameAuth sender(key, true), receiver(key, false);
		auto bytes = encode(ChunkData{3, 4096, 5});
		if (secret)
			sender.append_mac(bytes);
		std::size_t header_end = bytes.size();
		for (char c : std::string("hello"))
			bytes.push_back(std::byte(c));
		// The raw bytes are not counted in the frame counter: the next
		// frame is sealed as the second.
		auto next = encode(Ping{9});
		if (secret)
			sender.append_mac(next);
		bytes.insert(bytes.end(), next.begin(), next.end());

		FrameStep s = frame_step(bytes, secret ? &receiver : nullptr);
		REQUIRE(s.is_frame());
		CHECK(s.header.type == MsgType::ChunkData);
		CHECK(s.header.length == 16);
		CHECK(s.used == header_end);
		auto d = decode_frame(s.header.type, s.frame);
		REQUIRE(d.status == DecodeStatus::Ok);
		CHECK(std::get<ChunkData>(d.message).length == 5);
		std::span<const std::byte> rest(bytes.data() + header_end + 5, bytes.size() - header_end - 5);
		FrameStep p = frame_step(rest, secret ? &receiver : nullptr);
		REQUIRE(p.is_frame());
		CHECK(p.header.type == MsgType::Ping);
	}
}

TEST_CASE("frame step: decode and check_header give the step's verdicts", "[frame-step][codec]")
{
	auto bytes = encode(Lookup{"abc"});
	bytes[2] = std::byte{9};
	Decoded d = decode(bytes);
	REQUIRE(d.status == DecodeStatus::Bad);
	CHECK(d.error == ErrorCode::BadVersion);
	CHECK(std::string(d.why) == refusal(FrameFault::BadVersion).why);
	FrameHeader h{};
	CHECK(check_header(bytes, h).status == DecodeStatus::Bad);
	auto good = encode(Lookup{"abc"});
	REQUIRE(check_header(good, h).status == DecodeStatus::Ok);
	CHECK(h.type == MsgType::Lookup);
	CHECK(h.length == good.size() - kHeaderSize);
	CHECK(check_header({good.data(), 5}, h).status == DecodeStatus::NeedMore);
}

TEST_CASE("frame watch: a begun frame must complete within the deadline", "[frame-step][frame-watch]")
{
	FrameWatch w(10);
	CHECK(w.due() == FrameWatch::kNever);
	CHECK_FALSE(w.verdict(1e9));
	w.update(true, false, false, 100);
	CHECK(w.due() == 110);
	// Bytes trickling in do not push the deadline back.
	w.update(true, false, false, 105);
	w.update(true, false, false, 109.5);
	CHECK(w.due() == 110);
	CHECK_FALSE(w.verdict(109.9));
	auto v = w.verdict(110);
	REQUIRE(v);
	CHECK(v->code == ErrorCode::Timeout);
	CHECK(std::string(v->why) == refusal(FrameFault::FrameTimeout).why);
	SECTION("a frame completed with the next begun: the clock restarts")
	{
		w.update(true, false, true, 108);
		CHECK(w.due() == 118);
		CHECK_FALSE(w.verdict(117));
	}
	SECTION("everything consumed: nothing due")
	{
		w.update(false, false, true, 108);
		CHECK(w.due() == FrameWatch::kNever);
		CHECK_FALSE(w.verdict(1000));
	}
	SECTION("no deadline: a partial frame may wait forever")
	{
		w.set_frame_deadline(0);
		CHECK(w.due() == FrameWatch::kNever);
		CHECK_FALSE(w.verdict(1000));
	}
}

TEST_CASE("frame watch: a whole frame waits at most 2 s for its MAC", "[frame-step][frame-watch]")
{
	FrameWatch w(30);
	w.update(true, false, false, 100);
	w.update(true, true, false, 101); // the rest of the frame came
	CHECK(w.due() == 101 + kMacGrace);
	CHECK_FALSE(w.verdict(102.9));
	auto v = w.verdict(103);
	REQUIRE(v);
	CHECK(v->code == ErrorCode::BadAuth);
	CHECK(std::string(v->why) == refusal(FrameFault::MacMissing).why);
	CHECK(std::string(v->why) != refusal(FrameFault::BadMac).why);
	SECTION("the MAC arrived")
	{
		w.update(false, false, true, 101.5);
		CHECK(w.due() == FrameWatch::kNever);
		CHECK_FALSE(w.verdict(200));
	}
	SECTION("more bytes, still no MAC: the wait is not reset")
	{
		w.update(true, true, false, 102);
		CHECK(w.due() == 103);
	}
	SECTION("input paused by us: both waits start again")
	{
		w.hold(102.5);
		CHECK(w.due() == 104.5);
		CHECK(*w.partial_since() == 102.5);
		CHECK_FALSE(w.verdict(104));
		CHECK(w.verdict(104.5));
	}
	SECTION("a frame deadline shorter than the grace: still BadAuth, at the deadline")
	{
		FrameWatch s(1);
		s.update(true, false, false, 50);
		s.update(true, true, false, 50.5);
		CHECK(s.due() == 51);
		auto r = s.verdict(51);
		REQUIRE(r);
		CHECK(r->code == ErrorCode::BadAuth);
	}
	SECTION("no frame deadline: the MAC grace still holds")
	{
		FrameWatch s(0);
		s.update(true, true, false, 7);
		CHECK(s.due() == 9);
		CHECK(s.verdict(9));
	}
}

TEST_CASE("frame watch: follows a reader's steps", "[frame-step][frame-watch]")
{
	SecretKey key = key_of(8);
	auto bytes = wire({Ping{1}}, &key);
	FrameAuth auth(key, false);
	FrameWatch w(10);
	// The frame arrives a byte a second, its MAC never: the frame deadline
	// (10 s) passes before the frame is whole.
	std::optional<Refusal> v;
	double t = 0;
	for (std::size_t n = 1; n <= bytes.size() - kMacSize && !v; n++, t += 1) {
		FrameStep s = frame_step({bytes.data(), n}, &auth);
		w.update(true, s.awaiting_mac, false, t);
		v = w.verdict(t);
	}
	REQUIRE(v);
	CHECK(v->code == ErrorCode::Timeout);
	CHECK(t == 11); // judged at t = 10
	FrameWatch quick(10);
	FrameStep s = frame_step({bytes.data(), bytes.size() - kMacSize}, &auth);
	quick.update(true, s.awaiting_mac, false, 0);
	CHECK(quick.due() == kMacGrace);
	CHECK(quick.verdict(kMacGrace)->code == ErrorCode::BadAuth);
}
