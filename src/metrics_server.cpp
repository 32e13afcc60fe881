#include "corps/metrics_server.hpp"

#include <httplib.h>

#include <optional>

#include "corps/error.hpp"
#include "corps/logging.hpp"
#include "detail/http_listener.hpp"

namespace corps {

struct MetricsServer::Impl {
  Impl(std::shared_ptr<Metrics> m, const MetricsServerOptions& options) : metrics(std::move(m)) {
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
      response.set_content(metrics->render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("corps metrics: GET /metrics\n", "text/plain; charset=utf-8");
    });
    listener.emplace(server, options.host, options.port, Stage::config, "the metrics server");
    logger()->info("metrics at {}/metrics", listener->url());
  }

  std::shared_ptr<Metrics> metrics;
  httplib::Server server;
  std::optional<detail::HttpListener> listener;  // last: stops before the rest goes
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
  return impl_->listener->port();
}

std::string MetricsServer::url() const {
  return impl_->listener->url() + "/metrics";
}

}  // namespace corps
