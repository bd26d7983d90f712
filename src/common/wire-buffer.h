// Big-endian writing and bounds-checked reading of payload fields, for the
// codec only. A Reader's first failure sticks: later reads return zeros and
// the caller checks ok() once at the end.
#pragma once

#include "p2p/hash.h"
#include "p2p/names.h"
#include "p2p/protocol.h"

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace p2p::wire {

class Writer {
public:
	explicit Writer(std::vector<std::byte>& out) : out_(out) {}

	void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
	void u16(std::uint16_t v)
	{
		u8(static_cast<std::uint8_t>(v >> 8));
		u8(static_cast<std::uint8_t>(v));
	}
	void u32(std::uint32_t v)
	{
		u16(static_cast<std::uint16_t>(v >> 16));
		u16(static_cast<std::uint16_t>(v));
	}
	void u64(std::uint64_t v)
	{
		u32(static_cast<std::uint32_t>(v >> 32));
		u32(static_cast<std::uint32_t>(v));
	}
	void raw(const void* p, std::size_t n)
	{
		auto b = static_cast<const std::byte*>(p);
		out_.insert(out_.end(), b, b + n);
	}
	void str(const std::string& s)
	{
		assert(s.size() <= 0xffff);
		u16(static_cast<std::uint16_t>(s.size()));
		raw(s.data(), s.size());
	}
	void hash(const Hash& h) { raw(h.data(), h.size()); }
	void count(std::size_t n) { u32(static_cast<std::uint32_t>(n)); }

private:
	std::vector<std::byte>& out_;
};

// Reads a payload. The first failure sticks: later reads return zeros and
// the caller checks ok() once at the end.
class Reader {
public:
	explicit Reader(std::span<const std::byte> in) : in_(in) {}

	bool ok() const { return error_ == ErrorCode::None; }
	ErrorCode error() const { return error_; }
	const char* why() const { return why_; }
	std::size_t left() const { return in_.size() - pos_; }
	bool done() const { return ok() && pos_ == in_.size(); }

	void fail(ErrorCode code, const char* why)
	{
		if (ok()) {
			error_ = code;
			why_ = why;
		}
	}

	std::uint8_t u8()
	{
		if (!need(1))
			return 0;
		return static_cast<std::uint8_t>(in_[pos_++]);
	}
	// Operands of | are unsequenced, so the high part is read first by name.
	std::uint16_t u16()
	{
		std::uint16_t hi = u8();
		return static_cast<std::uint16_t>(hi << 8 | u8());
	}
	std::uint32_t u32()
	{
		std::uint32_t hi = u16();
		return hi << 16 | u16();
	}
	std::uint64_t u64()
	{
		std::uint64_t hi = u32();
		return hi << 32 | u32();
	}

	void raw(void* p, std::size_t n)
	{
		if (!need(n))
			return;
		std::memcpy(p, in_.data() + pos_, n);
		pos_ += n;
	}
	Hash hash()
	{
		Hash h{};
		raw(h.data(), h.size());
		return h;
	}
	std::string str(std::size_t max)
	{
		std::size_t n = u16();
		if (n > max) {
			fail(ErrorCode::Malformed, "string longer than its limit");
			return {};
		}
		if (!need(n))
			return {};
		std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
		pos_ += n;
		return s;
	}
	// Too long is a bad name (6), like every other break of the name rule.
	std::string name()
	{
		std::string s = str(0xffff);
		if (ok() && !is_safe_name(s))
			fail(ErrorCode::BadName, name_problem(s));
		return s;
	}
	// A count of items of at least `min_size` bytes each, checked against
	// both the limit and the bytes actually left.
	std::uint32_t count(std::uint32_t limit, std::size_t min_size)
	{
		std::uint32_t n = u32();
		if (n > limit)
			fail(ErrorCode::Malformed, "count above its limit");
		else if (static_cast<std::uint64_t>(n) * min_size > left())
			fail(ErrorCode::Malformed, "count larger than the payload");
		return ok() ? n : 0;
	}

private:
	bool need(std::size_t n)
	{
		if (!ok())
			return false;
		if (left() < n) {
			fail(ErrorCode::Malformed, "payload shorter than its fields");
			return false;
		}
		return true;
	}

	std::span<const std::byte> in_;
	std::size_t pos_ = 0;
	ErrorCode error_ = ErrorCode::None;
	const char* why_ = "";
};

} // namespace p2p::wire
