// Logging: corps and librdkafka log through one spdlog logger.
//
// The library never writes to stdout. By default it logs to stderr through a
// logger named "corps"; librdkafka's own log lines are routed into the same
// logger with their facility. Replace it to send everything elsewhere. The
// default logger's level comes from CORPS_LOG_LEVEL (trace, debug, info,
// warning, error, critical, off; default info).
#pragma once

#include <spdlog/logger.h>

#include <memory>

namespace corps {

/// The logger corps writes to. Thread-safe.
[[nodiscard]] std::shared_ptr<spdlog::logger> logger();

/// Replaces the logger corps writes to (nullptr restores the default).
/// Thread-safe; clients created before the call switch over too.
void set_logger(std::shared_ptr<spdlog::logger> replacement);

}  // namespace corps
