// HOST[:PORT] parsing and printing, IPv4 and IPv6, and conversion between
// socket addresses and the 16-byte form the protocol carries.
#pragma once

#include "p2p/message.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <sys/socket.h>

namespace p2p {

struct SockAddr {
	sockaddr_storage storage{};
	socklen_t len = 0;
	const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
	sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
	int family() const { return storage.ss_family; }
};

struct HostPort {
	std::string host; // without brackets
	std::uint16_t port = 0;
};

// "1.2.3.4", "1.2.3.4:80", "name:80", "[::1]:80", "::1" (bare IPv6, no port).
// A missing port becomes default_port. Returns nullopt on a malformed string.
std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port);

// "A[:PORT],B[:PORT],...": one or more of the above, in order of preference.
// Returns nullopt when any of them is malformed or the list is empty.
std::optional<std::vector<HostPort>> parse_host_port_list(std::string_view text, std::uint16_t default_port);
// The list as given back to the user: "a:1,[::1]:2".
std::string format_host_ports(const std::vector<HostPort>& list);

// Resolves with getaddrinfo (numeric or a name); blocking, for start-up.
std::optional<SockAddr> resolve(const HostPort& hp, std::string* error = nullptr);

IpBytes ip_bytes(const sockaddr* sa);
std::uint16_t port_of(const sockaddr* sa);
SockAddr to_sockaddr(const IpBytes& ip, std::uint16_t port); // v4-mapped -> AF_INET
// Same address and port, whatever the family's form (v4 or v4-mapped).
bool same_endpoint(const SockAddr& a, const SockAddr& b);

std::string format_ip(const IpBytes& ip);                   // "1.2.3.4" or "::1"
std::string format_endpoint(const IpBytes& ip, std::uint16_t port); // "1.2.3.4:5", "[::1]:5"
std::string format_endpoint(const sockaddr* sa);

} // namespace p2p
