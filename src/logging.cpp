#include "corps/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <cstdlib>

namespace corps {

namespace {

std::shared_ptr<spdlog::logger> make_default_logger() {
  // Not registered with spdlog's registry: an application's own "corps"
  // logger must not clash with ours.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto made = std::make_shared<spdlog::logger>("corps", std::move(sink));
  const char* level = std::getenv("CORPS_LOG_LEVEL");
  made->set_level(level != nullptr && *level != '\0' ? spdlog::level::from_str(level)
                                                     : spdlog::level::info);
  return made;
}

std::atomic<std::shared_ptr<spdlog::logger>>& current() {
  static std::atomic<std::shared_ptr<spdlog::logger>> instance{make_default_logger()};
  return instance;
}

}  // namespace

std::shared_ptr<spdlog::logger> logger() {
  return current().load();
}

void set_logger(std::shared_ptr<spdlog::logger> replacement) {
  current().store(replacement ? std::move(replacement) : make_default_logger());
}

}  // namespace corps
