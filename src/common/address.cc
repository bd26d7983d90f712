#include "p2p/address.h"

#include "p2p/parse-number.h"

#include <arpa/inet.h>
#include <algorithm>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>

namespace p2p {

std::optional<HostPort> parse_host_port(std::string_view text, std::uint16_t default_port)
{
	HostPort hp;
	hp.port = default_port;
	std::string_view port_text;
	if (!text.empty() && text.front() == '[') {
		auto close = text.find(']');
		if (close == std::string_view::npos)
			return std::nullopt;
		hp.host = std::string(text.substr(1, close - 1));
		std::string_view rest = text.substr(close + 1);
		if (!rest.empty()) {
			if (rest.front() != ':')
				return std::nullopt;
			port_text = rest.substr(1);
			if (port_text.empty())
				return std::nullopt;
		}
	} else if (std::count(text.begin(), text.end(), ':') > 1) {
		hp.host = std::string(text); // bare IPv6 address
	} else {
		auto colon = text.find(':');
		hp.host = std::string(text.substr(0, colon));
		if (colon != std::string_view::npos) {
			port_text = text.substr(colon + 1);
			if (port_text.empty())
				return std::nullopt;
		}
	}
	// Brackets only ever surround the whole host.
	if (hp.host.empty() || hp.host.find_first_of("[]") != std::string::npos)
		return std::nullopt;
	if (!port_text.empty()) {
		auto port = parse_u64(port_text, 65535);
		if (!port || *port == 0)
			return std::nullopt;
		hp.port = static_cast<std::uint16_t>(*port);
	}
	return hp;
}

std::optional<std::vector<HostPort>> parse_host_port_list(std::string_view text, std::uint16_t default_port)
{
	std::vector<HostPort> list;
	while (true) {
		auto comma = text.find(',');
		auto hp = parse_host_port(text.substr(0, comma), default_port);
		if (!hp)
			return std::nullopt;
		list.push_back(std::move(*hp));
		if (comma == std::string_view::npos)
			return list;
		text.remove_prefix(comma + 1);
	}
}

std::string format_host_ports(const std::vector<HostPort>& list)
{
	std::string out;
	for (auto& hp : list) {
		if (!out.empty())
			out += ',';
		bool v6 = hp.host.find(':') != std::string::npos;
		out += (v6 ? "[" + hp.host + "]" : hp.host) + ":" + std::to_string(hp.port);
	}
	return out;
}

std::optional<SockAddr> resolve(const HostPort& hp, std::string* error)
{
	addrinfo hints{};
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	addrinfo* res = nullptr;
	std::string port = std::to_string(hp.port);
	int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res);
	if (rc != 0 || !res) {
		if (error)
			*error = gai_strerror(rc);
		return std::nullopt;
	}
	SockAddr out;
	std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
	out.len = res->ai_addrlen;
	freeaddrinfo(res);
	return out;
}

IpBytes ip_bytes(const sockaddr* sa)
{
	IpBytes ip{};
	if (sa->sa_family == AF_INET) {
		auto in = reinterpret_cast<const sockaddr_in*>(sa);
		ip[10] = ip[11] = 0xff;
		std::memcpy(&ip[12], &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		auto in6 = reinterpret_cast<const sockaddr_in6*>(sa);
		std::memcpy(ip.data(), &in6->sin6_addr, 16);
	}
	return ip;
}

std::uint16_t port_of(const sockaddr* sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
	return 0;
}

static bool is_v4_mapped(const IpBytes& ip)
{
	static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return std::memcmp(ip.data(), prefix, 12) == 0;
}

SockAddr to_sockaddr(const IpBytes& ip, std::uint16_t port)
{
	SockAddr out;
	if (is_v4_mapped(ip)) {
		auto in = reinterpret_cast<sockaddr_in*>(&out.storage);
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		std::memcpy(&in->sin_addr, &ip[12], 4);
		out.len = sizeof(sockaddr_in);
	} else {
		auto in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		std::memcpy(&in6->sin6_addr, ip.data(), 16);
		out.len = sizeof(sockaddr_in6);
	}
	return out;
}

std::string format_ip(const IpBytes& ip)
{
	char buf[INET6_ADDRSTRLEN];
	if (is_v4_mapped(ip))
		inet_ntop(AF_INET, &ip[12], buf, sizeof buf);
	else
		inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
	return buf;
}

std::string format_endpoint(const IpBytes& ip, std::uint16_t port)
{
	std::string host = format_ip(ip);
	if (is_v4_mapped(ip))
		return host + ":" + std::to_string(port);
	return "[" + host + "]:" + std::to_string(port);
}

std::string format_endpoint(const sockaddr* sa)
{
	return format_endpoint(ip_bytes(sa), port_of(sa));
}

bool same_endpoint(const SockAddr& a, const SockAddr& b)
{
	return port_of(a.get()) == port_of(b.get()) && ip_bytes(a.get()) == ip_bytes(b.get());
}

} // namespace p2p
