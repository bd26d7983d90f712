#include "p2p/metrics-server.h"

#include "p2p/parse-number.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include <cstring>

namespace p2p {
namespace {

// A scrape is a few hundred bytes of request: anything bigger or slower is
// not Prometheus.
constexpr std::size_t kMaxHeaders = 8192;
constexpr int kTimeoutSeconds = 10;

} // namespace

std::optional<HostPort> parse_metrics_address(std::string_view text)
{
	if (auto port = parse_u64(text, 65535)) {
		if (*port == 0)
			return std::nullopt;
		return HostPort{"", static_cast<std::uint16_t>(*port)};
	}
	auto hp = parse_host_port(text, 0);
	if (!hp || hp->port == 0 || hp->host.empty())
		return std::nullopt;
	return hp;
}

MetricsServer::MetricsServer(event_base* base, std::function<std::string()> render)
	: render_(std::move(render)), http_(evhttp_new(base))
{
	if (!http_)
		return;
	evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(http_.get(), kMaxHeaders);
	evhttp_set_max_body_size(http_.get(), 0);
	evhttp_set_timeout(http_.get(), kTimeoutSeconds);
	evhttp_set_gencb(http_.get(), request_cb, this);
}

bool MetricsServer::listen(const HostPort& where, std::string* error)
{
	if (!http_) {
		*error = "cannot set up the metrics server";
		return false;
	}
	// "::" takes IPv4 too, as every listener of ours does.
	std::string host = where.host.empty() ? "::" : where.host;
	if (!evhttp_bind_socket_with_handle(http_.get(), host.c_str(), where.port) &&
	    !(where.host.empty() && evhttp_bind_socket_with_handle(http_.get(), "0.0.0.0", where.port))) {
		*error = "cannot listen for metrics on " + (where.host.empty() ? std::string("*") : where.host) + ":" +
		         std::to_string(where.port) + ": " + std::strerror(errno);
		return false;
	}
	return true;
}

void MetricsServer::request_cb(evhttp_request* req, void* self) { static_cast<MetricsServer*>(self)->on_request(req); }

void MetricsServer::on_request(evhttp_request* req)
{
	const char* path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	if (!path || std::strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is served here");
		return;
	}
	std::string body = render_();
	evkeyvalq* headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	EvBufferPtr buf(evbuffer_new());
	if (!buf || evbuffer_add(buf.get(), body.data(), body.size()) != 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", buf.get());
}

} // namespace p2p
