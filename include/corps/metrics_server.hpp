// MetricsServer: a service's metrics over HTTP, for Prometheus to scrape.
//
//   GET /metrics   every series, in Prometheus's text format (0.0.4)
//   GET /          a line saying where the metrics are
//
// A service opts in by making one (the pipeline's services and the corps
// tool do with --metrics-port). It serves on a thread of its own until
// destroyed.
#pragma once

#include <memory>
#include <string>

#include "corps/metrics.hpp"

namespace corps {

/// Where a MetricsServer listens.
struct MetricsServerOptions {
  /// The address to listen on: 127.0.0.1 (this machine only) by default;
  /// 0.0.0.0 for a scraper elsewhere.
  std::string host = "127.0.0.1";
  /// The port; 0 picks a free one (see port()).
  int port = 0;
};

/// Serves `metrics` over HTTP. Thread-safe. Move-only.
class MetricsServer {
 public:
  /// Starts serving. Throws corps::Exception (Stage::config) if it cannot
  /// listen on host:port, or if `metrics` is null.
  explicit MetricsServer(std::shared_ptr<Metrics> metrics, MetricsServerOptions options = {});
  ~MetricsServer();
  MetricsServer(MetricsServer&&) noexcept;
  MetricsServer& operator=(MetricsServer&&) noexcept;

  /// The port it listens on.
  [[nodiscard]] int port() const noexcept;
  /// The metrics' address: http://host:port/metrics
  [[nodiscard]] std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
