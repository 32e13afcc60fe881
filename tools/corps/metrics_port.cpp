// --metrics-port (see its header).
#include "metrics_port.hpp"

#include <iostream>

namespace corps::cli {

void add_metrics_port_flag(CLI::App& command, int& port) {
  command
      .add_option("--metrics-port", port,
                  "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics while running (0: any "
                  "free port, printed on stderr); `corps top` reads them")
      ->check(CLI::Range(0, 65535));
}

std::optional<MetricsServer> serve_metrics(int port, std::shared_ptr<Metrics>& metrics) {
  if (port < 0) return std::nullopt;
  metrics = std::make_shared<Metrics>();
  std::optional<MetricsServer> server(std::in_place, metrics, MetricsServerOptions{.port = port});
  std::cerr << "corps: metrics at " << server->url() << std::endl;
  return server;
}

}  // namespace corps::cli
