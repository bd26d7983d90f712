// A small network of separate hosts on one machine: one network namespace
// per host, all joined by veth pairs to a bridge that lives in a namespace
// of its own, so the test never touches the machine's real interfaces.
// Needs root (CI runs as root); available() says whether it could be built.
#pragma once

#include "fixtures.h"

#include <string>
#include <vector>

namespace fixtures {

class NetLab {
public:
	NetLab();
	~NetLab();
	NetLab(const NetLab&) = delete;
	NetLab& operator=(const NetLab&) = delete;

	bool available() const { return ok_; }
	const std::string& why_not() const { return why_; }

	// Adds a host; returns its IPv4 address (10.199.N.M/16 on the bridge).
	std::string add_host(const std::string& name);
	// argv prefixed so it runs inside host `name`.
	std::vector<std::string> in(const std::string& name, std::vector<std::string> argv) const;
	// Takes the host's link down or up at the bridge (a cable pulled).
	bool set_link(const std::string& name, bool up);
	// Adds delay and loss on the host's link; false when netem is missing.
	bool impair(const std::string& name, int delay_ms, double loss_percent);

	static std::string ip_tool();

private:
	bool ip(std::vector<std::string> args);
	std::string ns(const std::string& name) const { return prefix_ + name; }
	std::string veth(const std::string& name) const;

	std::string prefix_;
	std::vector<std::string> hosts_;
	bool ok_ = false;
	std::string why_;
};

} // namespace fixtures
