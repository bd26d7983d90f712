#include "netns-lab.h"

#include <algorithm>
#include <unistd.h>

namespace fixtures {

std::string NetLab::ip_tool()
{
	for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
		if (::access(p, X_OK) == 0)
			return p;
	return {};
}

static std::string tc_tool()
{
	for (const char* p : {"/usr/sbin/tc", "/sbin/tc", "/usr/bin/tc", "/bin/tc"})
		if (::access(p, X_OK) == 0)
			return p;
	return {};
}

bool NetLab::ip(std::vector<std::string> args)
{
	args.insert(args.begin(), ip_tool());
	RunResult r = run(args, {}, std::chrono::seconds(10));
	if (r.status != 0 && why_.empty())
		why_ = "ip " + args[1] + " " + args[2] + ": " + r.err;
	return r.status == 0;
}

NetLab::NetLab() : prefix_("p2p" + std::to_string(::getpid()) + "-")
{
	if (::geteuid() != 0) {
		why_ = "not root";
		return;
	}
	if (ip_tool().empty()) {
		why_ = "the ip tool (iproute2) is not installed";
		return;
	}
	ok_ = ip({"netns", "add", ns("hub")}) && ip({"-n", ns("hub"), "link", "add", "br0", "type", "bridge"}) &&
	      ip({"-n", ns("hub"), "link", "set", "br0", "up"});
}

NetLab::~NetLab()
{
	for (const auto& h : hosts_)
		run({ip_tool(), "netns", "del", ns(h)});
	run({ip_tool(), "netns", "del", ns("hub")});
}

std::string NetLab::veth(const std::string& name) const
{
	return "v" + std::to_string(std::find(hosts_.begin(), hosts_.end(), name) - hosts_.begin());
}

std::string NetLab::add_host(const std::string& name)
{
	hosts_.push_back(name);
	std::string addr = "10.199.0." + std::to_string(hosts_.size());
	std::string v = veth(name);
	bool ok = ip({"netns", "add", ns(name)}) &&
	          ip({"-n", ns("hub"), "link", "add", v, "type", "veth", "peer", "name", "eth0", "netns", ns(name)}) &&
	          ip({"-n", ns("hub"), "link", "set", v, "master", "br0", "up"}) &&
	          ip({"-n", ns(name), "addr", "add", addr + "/16", "dev", "eth0"}) &&
	          ip({"-n", ns(name), "link", "set", "eth0", "up"}) && ip({"-n", ns(name), "link", "set", "lo", "up"});
	if (!ok)
		ok_ = false;
	return addr;
}

std::vector<std::string> NetLab::in(const std::string& name, std::vector<std::string> argv) const
{
	argv.insert(argv.begin(), {ip_tool(), "netns", "exec", ns(name)});
	return argv;
}

bool NetLab::set_link(const std::string& name, bool up)
{
	return ip({"-n", ns("hub"), "link", "set", veth(name), up ? "up" : "down"});
}

bool NetLab::impair(const std::string& name, int delay_ms, double loss_percent)
{
	std::string tc = tc_tool();
	if (tc.empty())
		return false;
	RunResult r = run(in(name, {tc, "qdisc", "add", "dev", "eth0", "root", "netem", "delay",
	                            std::to_string(delay_ms) + "ms", "loss", std::to_string(loss_percent) + "%"}));
	return r.status == 0;
}

} // namespace fixtures
