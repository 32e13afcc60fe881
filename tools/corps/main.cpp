// corps: the command-line tool. Exit codes: 0 ok; 1 failure (one line on
// stderr); 2 bad usage; 3 a partial answer (records not decoded, sent or
// replayed; a topic's configs missing), each reported.
#include <google/protobuf/stubs/logging.h>

#include <cstdlib>
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "corps/error.hpp"
#include "corps/logging.hpp"

namespace {

// What the tool logs on stderr: warnings and errors unless CORPS_LOG_LEVEL,
// --log-level, -q or -v say otherwise (the command-line flags win).
void set_log_level(const std::string& named, bool quiet, bool verbose) {
  std::string level = named;
  if (level.empty() && quiet) level = "error";
  if (level.empty() && verbose) level = "info";
  if (level.empty()) {
    const char* from_environment = std::getenv("CORPS_LOG_LEVEL");
    level = from_environment != nullptr && *from_environment != '\0' ? from_environment : "warning";
  }
  corps::logger()->set_level(spdlog::level::from_str(level));
}

// protobuf logs what its parser notices (a .proto without a syntax line)
// straight to stderr as "[libprotobuf WARNING parser.cc:646] ...": in this
// tool it goes through corps's logger, at its level, like every other line.
void log_protobuf_through_corps(google::protobuf::LogLevel level, const char* /*file*/,
                                int /*line*/, const std::string& message) {
  const auto corps_level = level == google::protobuf::LOGLEVEL_INFO      ? spdlog::level::debug
                           : level == google::protobuf::LOGLEVEL_WARNING ? spdlog::level::warn
                                                                        : spdlog::level::err;
  const auto logger = corps::logger();
  logger->log(corps_level, "protobuf: {}", message);
}

}  // namespace

int main(int argc, char** argv) {
  // Named, so usage lines say "corps", not the path it was run by.
  CLI::App app{"corps: typed protobuf messaging over Apache Kafka", "corps"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  app.footer(
      "Exit codes: 0 ok; 1 failure (reason on stderr); 2 bad usage; 3 a partial answer: some "
      "records not decoded (consume), not sent (produce) or not replayed (replay), or a topic's "
      "configs missing (topics describe).\nBrokers: -b, else CORPS_BROKERS, else --config, else a "
      "running `corps broker`.\nLogs go to stderr: warnings and errors by default, or the level "
      "in CORPS_LOG_LEVEL (trace, debug, info, warning, error, off); -q, -v and --log-level "
      "override it.");
  app.require_subcommand(1);
  google::protobuf::SetLogHandler(log_protobuf_through_corps);
  app.set_version_flag("--version", "corps " CORPS_VERSION);
  std::string log_level;
  bool quiet = false;
  bool verbose = false;
  // Global flags, given before or after the command.
  app.add_flag("-q,--quiet", quiet, "Log errors only");
  app.add_flag("-v,--verbose", verbose,
               "Log what the tool does (info); `produce -v` also prints each record's offset");
  app.add_option("--log-level", log_level, "Log level: trace, debug, info, warning, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "warn", "error", "critical",
                             "off"}));
  const std::vector<corps::cli::Command> commands{
      corps::cli::add_broker_command(app),
      corps::cli::add_registry_command(app),
      corps::cli::add_topics_command(app),
      corps::cli::add_produce_command(app),
      corps::cli::add_consume_command(app),
      corps::cli::add_replay_command(app),
      corps::cli::add_lag_command(app),
      corps::cli::add_top_command(app),
  };
  for (const auto& command : commands) command.app->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  set_log_level(log_level, quiet, verbose);
  try {
    for (const auto& command : commands) {
      if (!command.app->parsed()) continue;
      // A command's log lines read as its other messages do ("corps:
      // warning: ..."); the servers, which run for hours, keep the time.
      const auto& name = command.app->get_name();
      if (name != "broker" && name != "registry") corps::logger()->set_pattern("corps: %l: %v");
      return command.run();
    }
  } catch (const corps::cli::UsageError& e) {
    std::cerr << "corps: " << e.what() << "\nRun with --help for more information.\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "corps: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
