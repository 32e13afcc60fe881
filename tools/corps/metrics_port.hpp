// --metrics-port, which `produce` and `consume` share: the command's own
// Prometheus metrics, served while it runs, for `corps top` and scrapers.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "corps/metrics.hpp"
#include "corps/metrics_server.hpp"

namespace corps::cli {

/// Adds --metrics-port to `command`, into `port` (left at -1: none served).
void add_metrics_port_flag(CLI::App& command, int& port);

/// With `port` at 0 or above, makes `metrics` and serves them there (0: any
/// free port), printing "corps: metrics at URL" on stderr; nullopt, with
/// `metrics` left null, at -1. Throws corps::Exception if the port is taken.
[[nodiscard]] std::optional<MetricsServer> serve_metrics(int port,
                                                         std::shared_ptr<Metrics>& metrics);

}  // namespace corps::cli
