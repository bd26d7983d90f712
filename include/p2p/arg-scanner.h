// One way for every program to walk argv as getopt_long users expect, pure
// (no I/O, no global state) so each parse_options stays unit-testable:
//
//	p2p::ArgScanner s(argc, argv);
//	while (s.next()) {
//		if (s.flag('v', "verbose"))
//			verbose++;
//		else if (s.value('p', "port"))
//			port = check_port(s.arg());
//		else if (s.operand())
//			names.push_back(s.arg());
//		else
//			return error(s.error());
//	}
//
// Forms: "-p VALUE", "-pVALUE", "--port VALUE", "--port=VALUE"; a flag
// repeated in one word ("-vv") is matched once per letter; "--" ends the
// options; "-" and "" are operands. Letters of different flags do not
// combine: "-qv" is an error rather than a guess.
#pragma once

#include <string>
#include <string_view>

namespace p2p {

class ArgScanner {
public:
	// argv[0], the program's name, is skipped.
	ArgScanner(int argc, const char* const* argv) : argc_(argc), argv_(argv) {}

	// Moves to the next option (or next letter of "-vv") or operand; false
	// at the end.
	bool next();

	// The current option is -SHORT or --LONG and takes no value. SHORT 0: no
	// short form. False, with error() set, when it was given one.
	bool flag(char short_name, std::string_view long_name);

	// The current option is -SHORT or --LONG with a value, then in arg().
	// False, with error() set, when argv ends before the value.
	bool value(char short_name, std::string_view long_name);

	// The current argument is an operand, then in arg().
	bool operand() const { return operand_; }

	// The operand, or the value of the option just matched.
	std::string_view arg() const { return arg_; }

	// Why the current argument was not matched: "unknown option '-x'",
	// "unexpected argument 'x'", "option --json takes no value", "option -p
	// needs a value".
	std::string error() const;

private:
	bool is_long() const { return cur_.starts_with("--"); }
	bool is(char short_name, std::string_view long_name) const; // the current option?
	std::string name() const; // of the current option: "-p", "--port"

	int argc_;
	const char* const* argv_;
	int i_ = 0;                  // index in argv_ of cur_
	std::string_view cur_;       // the current argument as written
	std::size_t pos_ = 0;        // in "-vvv": the letter being matched
	bool more_letters_ = false;  // a flag matched and cur_ has letters left
	bool operand_ = false;
	bool only_operands_ = false; // after "--"
	std::string_view arg_;
	std::string error_;
};

} // namespace p2p
