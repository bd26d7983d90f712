// FramedConn over a socketpair with a real event loop: frames in, raw bytes
// after ChunkData, and the single close path for bad frames and EOF.
#include "p2p/framed-conn.h"

#include "p2p/frame-step.h"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

using namespace p2p;

namespace {

struct Pair {
	EventBasePtr base{event_base_new()};
	int fds[2] = {-1, -1};
	std::vector<Message> got;
	std::string raw;
	std::string closed_reason;
	std::unique_ptr<FramedConn> conn;

	Pair()
	{
		REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
		FramedConn::Callbacks cb;
		cb.on_message = [this](Message& m) {
			got.push_back(m);
			if (auto* d = std::get_if<ChunkData>(&m))
				conn->expect_raw(d->length);
		};
		cb.on_raw = [this](std::span<const std::byte> b) { raw.append(reinterpret_cast<const char*>(b.data()), b.size()); };
		cb.on_close = [this](const std::string& why) {
			closed_reason = why;
			event_base_loopbreak(base.get());
		};
		conn = std::make_unique<FramedConn>(base.get(), fds[0], std::move(cb));
	}
	~Pair()
	{
		conn.reset();
		if (fds[1] >= 0)
			::close(fds[1]);
	}
	void write(const std::vector<std::byte>& bytes) { REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())); }
	void run_for(double seconds)
	{
		timeval tv = to_timeval(seconds);
		event_base_loopexit(base.get(), &tv);
		event_base_dispatch(base.get());
	}
	std::string read_reply()
	{
		char buf[4096];
		ssize_t n = ::recv(fds[1], buf, sizeof buf, MSG_DONTWAIT);
		return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
	}
};

} // namespace

TEST_CASE("frames arriving together are each delivered", "[framed-conn]")
{
	Pair p;
	auto bytes = encode(Ping{1});
	encode(Lookup{"a/b"}, bytes);
	encode(Ping{2}, bytes);
	p.write(bytes);
	p.run_for(0.2);
	REQUIRE(p.got.size() == 3);
	CHECK(std::get<Lookup>(p.got[1]).name == "a/b");
	CHECK(p.closed_reason.empty());
}

TEST_CASE("bytes after ChunkData go to on_raw, then framing resumes", "[framed-conn]")
{
	Pair p;
	auto bytes = encode(ChunkData{7, 0, 5});
	for (char c : std::string("hello"))
		bytes.push_back(std::byte(c));
	encode(Ping{9}, bytes);
	p.write(bytes);
	p.run_for(0.2);
	REQUIRE(p.got.size() == 2);
	CHECK(p.raw == "hello");
	CHECK(std::get<Ping>(p.got[1]).token == 9);
}

TEST_CASE("a bad frame is answered with an error and closed", "[framed-conn]")
{
	Pair p;
	std::vector<std::byte> garbage(16, std::byte{'G'});
	p.write(garbage);
	p.run_for(2.0);
	CHECK_FALSE(p.closed_reason.empty());
	CHECK(p.got.empty());
	std::string reply = p.read_reply();
	auto d = decode({reinterpret_cast<const std::byte*>(reply.data()), reply.size()});
	REQUIRE(d.status == DecodeStatus::Ok);
	CHECK(std::get<Error>(d.message).code == ErrorCode::BadMagic);
}

TEST_CASE("EOF and idle timeout both close through one path", "[framed-conn]")
{
	SECTION("EOF")
	{
		Pair p;
		::close(p.fds[1]);
		p.fds[1] = -1;
		p.run_for(2.0);
		CHECK(p.closed_reason == "connection closed by peer");
	}
	SECTION("idle")
	{
		Pair p;
		p.conn->set_idle_timeout(0.1);
		auto half = encode(Lookup{"abc"});
		half.resize(5);
		p.write(half);
		p.run_for(2.0);
		CHECK(p.closed_reason == "idle timeout");
	}
}

TEST_CASE("a frame trickled a byte at a time misses its deadline", "[framed-conn]")
{
	Pair p;
	p.conn->set_idle_timeout(5);
	p.conn->set_frame_deadline(0.3);
	auto frame = encode(Lookup{"abcdefgh"});
	for (std::size_t i = 0; i + 1 < frame.size() && p.closed_reason.empty(); i++) {
		p.write({frame[i]});
		p.run_for(0.05); // always well inside the idle timeout
	}
	CHECK(p.conn->refused_with() == ErrorCode::Timeout);
	CHECK(p.got.empty());
}

TEST_CASE("with a secret, sealed frames pass and unsealed ones are refused", "[framed-conn][frame-auth]")
{
	SecretKey key;
	key.fill(7);
	SECTION("sealed by the other side")
	{
		Pair p;
		p.conn->set_secret(key);
		FrameAuth initiator(key, true);
		auto f = encode(Ping{5});
		Mac m = initiator.seal(f);
		f.insert(f.end(), reinterpret_cast<const std::byte*>(m.data()), reinterpret_cast<const std::byte*>(m.data() + m.size()));
		p.write(f);
		p.run_for(0.2);
		REQUIRE(p.got.size() == 1);
		CHECK(p.closed_reason.empty());
	}
	SECTION("a whole frame and no MAC after it, ever")
	{
		Pair p;
		p.conn->set_secret(key);
		p.write(encode(Ping{5}));
		p.run_for(4.0); // the grace is 2 s
		CHECK(p.got.empty());
		CHECK(p.conn->refused_with() == ErrorCode::BadAuth);
	}
	SECTION("zeros where the MAC should be")
	{
		Pair p;
		p.conn->set_secret(key);
		auto f = encode(Ping{5});
		f.resize(f.size() + kMacSize); // zeros where the MAC should be
		p.write(f);
		p.run_for(2.0);
		CHECK(p.got.empty());
		CHECK(p.conn->refused_with() == ErrorCode::BadAuth);
		CHECK_FALSE(p.closed_reason.empty());
	}
}

TEST_CASE("the MAC grace and the frame deadline send the step's words", "[framed-conn][frame-auth][frame-step]")
{
	SecretKey key;
	key.fill(8);
	auto error_in = [](const std::string& reply) {
		// The Error is followed by its MAC, which this side does not check.
		auto d = decode({reinterpret_cast<const std::byte*>(reply.data()), reply.size()});
		REQUIRE(d.status == DecodeStatus::Ok);
		return std::get<Error>(d.message);
	};
	SECTION("a whole frame without its MAC: BadAuth after the grace, not at the frame deadline")
	{
		Pair p;
		p.conn->set_secret(key);
		p.conn->set_frame_deadline(30);
		p.write(encode(Ping{5}));
		p.run_for(5.0); // the grace is 2 s; the loop ends at the close
		REQUIRE(p.conn->refused_with() == ErrorCode::BadAuth);
		auto e = error_in(p.read_reply());
		CHECK(e.code == ErrorCode::BadAuth);
		CHECK(e.text == refusal(FrameFault::MacMissing).why);
	}
	SECTION("half a frame: Timeout at the frame deadline")
	{
		Pair p;
		p.conn->set_secret(key);
		p.conn->set_frame_deadline(0.3);
		auto half = encode(Lookup{"abcdef"});
		half.resize(9);
		p.write(half);
		p.run_for(3.0);
		REQUIRE(p.conn->refused_with() == ErrorCode::Timeout);
		auto e = error_in(p.read_reply());
		CHECK(e.text == refusal(FrameFault::FrameTimeout).why);
	}
	SECTION("a bad header byte: the step's code and text")
	{
		Pair p;
		auto f = encode(Ping{1});
		f[2] = std::byte{0x7f};
		p.write(f);
		p.run_for(2.0);
		auto e = error_in(p.read_reply());
		CHECK(e.code == ErrorCode::BadVersion);
		CHECK(e.text == refusal(FrameFault::BadVersion).why);
	}
}
