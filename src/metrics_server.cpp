#include "corps/metrics_server.hpp"

#include <optional>

#include "corps/error.hpp"
#include "corps/logging.hpp"
#include "corps/http_server.hpp"

namespace corps {

struct MetricsServer::Impl {
  Impl(std::shared_ptr<Metrics> m, const MetricsServerOptions& options) : metrics(std::move(m)) {
    HttpServerOptions http;
    http.host = options.host;
    http.port = options.port;
    // Scrapes send no body: none is taken.
    http.limits.max_body_bytes = 0;
    http.name = "the metrics server";
    server.emplace(std::move(http), [this](const HttpRequest& request) {
      if (request.method != "GET" && request.method != "HEAD") {
        return HttpResponse{405, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}}};
      }
      if (request.path == std::vector<std::string>{"metrics"}) {
        return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics->render(), {}};
      }
      if (request.path.empty()) {
        return HttpResponse{200, "text/plain; charset=utf-8", "corps metrics: GET /metrics\n", {}};
      }
      return HttpResponse{404, "text/plain; charset=utf-8", "not found: GET /metrics\n", {}};
    });
    logger()->info("metrics at {}/metrics", server->url());
  }

  std::shared_ptr<Metrics> metrics;
  std::optional<HttpServer> server;  // last: stops before the rest goes
};

MetricsServer::MetricsServer(std::shared_ptr<Metrics> metrics, MetricsServerOptions options) {
  if (!metrics) {
    throw Exception(Error(Errc::invalid_argument, Stage::config, "a metrics server needs metrics"));
  }
  impl_ = std::make_unique<Impl>(std::move(metrics), options);
}

MetricsServer::~MetricsServer() = default;
MetricsServer::MetricsServer(MetricsServer&&) noexcept = default;
MetricsServer& MetricsServer::operator=(MetricsServer&&) noexcept = default;

int MetricsServer::port() const noexcept {
  return impl_->server->port();
}

std::string MetricsServer::url() const {
  return impl_->server->url() + "/metrics";
}

}  // namespace corps
