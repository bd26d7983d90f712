// The argv walk shared by indexd, peerd and p2pget; see arg-scanner.h.
#include "p2p/arg-scanner.h"

#include <utility>

namespace p2p {

bool ArgScanner::next()
{
	arg_ = {};
	error_.clear();
	if (std::exchange(more_letters_, false))
		return true;
	if (++i_ >= argc_)
		return false;
	cur_ = argv_[i_];
	pos_ = 1;
	if (cur_ == "--" && !only_operands_) {
		only_operands_ = true;
		return next();
	}
	operand_ = only_operands_ || cur_.size() < 2 || cur_[0] != '-';
	arg_ = operand_ ? cur_ : std::string_view();
	return true;
}

bool ArgScanner::is(char short_name, std::string_view long_name) const
{
	if (operand_)
		return false;
	if (!is_long())
		return cur_[pos_] == short_name;
	return !long_name.empty() && cur_.substr(2, cur_.find('=') - 2) == long_name; // npos - 2: to the end
}

std::string ArgScanner::name() const
{
	return is_long() ? std::string(cur_.substr(0, cur_.find('='))) : std::string{'-', cur_[pos_]};
}

bool ArgScanner::flag(char short_name, std::string_view long_name)
{
	if (!is(short_name, long_name))
		return false;
	bool attached = is_long() ? cur_.find('=') != std::string_view::npos
	                          : pos_ + 1 < cur_.size() && cur_[pos_ + 1] != short_name;
	if (attached) {
		error_ = "option " + name() + " takes no value";
		return false;
	}
	more_letters_ = !is_long() && ++pos_ < cur_.size(); // "-vv": next() gives the second v
	return true;
}

bool ArgScanner::value(char short_name, std::string_view long_name)
{
	if (!is(short_name, long_name))
		return false;
	// Where "--port=80" or "-p80" has its value, less one.
	std::size_t at = is_long() ? cur_.find('=') : pos_ + 1 < cur_.size() ? pos_ : std::string_view::npos;
	if (at != std::string_view::npos) {
		arg_ = cur_.substr(at + 1);
		return true;
	}
	if (i_ + 1 >= argc_) {
		error_ = "option " + name() + " needs a value";
		return false;
	}
	arg_ = argv_[++i_];
	return true;
}

std::string ArgScanner::error() const
{
	if (!error_.empty())
		return error_;
	return (operand_ ? "unexpected argument '" : "unknown option '") + std::string(cur_) + "'";
}

} // namespace p2p
