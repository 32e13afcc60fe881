#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include "commands.hpp"
#include "connection.hpp"
#include "corps/config.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/error.hpp"
#include "corps/logging.hpp"
#include "corps/shutdown.hpp"

namespace corps::cli {

namespace {

struct RegistryArgs {
  ConnectionFlags connection;
  std::string host = "127.0.0.1";
  int port = 8081;
  std::string topic = "_schemas";
  std::string compatibility = "BACKWARD";
};

int run_registry(const RegistryArgs& args) {
  const auto level = compatibility_level_named(args.compatibility);
  if (!level) throw UsageError("--compatibility '" + args.compatibility + "' is not a level");
  install_shutdown_handlers();
  Config config;
  if (!args.connection.config_file.empty()) config = Config::load(args.connection.config_file);
  const auto brokers = Brokers::find(args.connection.brokers, config.brokers);
  if (!brokers) {
    throw Exception(Error(Errc::broker_unreachable, Stage::connect,
                          "no brokers to keep the schemas on: give -b HOST:PORT, set "
                          "CORPS_BROKERS, name them in --config, or start `corps broker`"));
  }
  EmbeddedSchemaRegistry registry({.brokers = brokers->bootstrap_servers(),
                                   .topic = args.topic,
                                   .host = args.host,
                                   .port = args.port,
                                   .default_compatibility = *level});
  // The URL alone on stdout, so scripts can capture it.
  std::cout << registry.url() << std::endl;
  logger()->info("schema registry at {}, schemas in topic '{}' of {}; Ctrl-C stops it",
                 registry.url(), args.topic, brokers->bootstrap_servers());
  while (!shutdown_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

}  // namespace

Command add_registry_command(CLI::App& app) {
  auto args = std::make_shared<RegistryArgs>();
  auto* cmd = app.add_subcommand(
      "registry",
      "Run a schema registry (Confluent's REST API, PROTOBUF schemas) until Ctrl-C, keeping its "
      "schemas in a topic of the brokers, so a restart loses nothing. Prints its URL.");
  add_broker_flags(*cmd, args->connection);
  cmd->add_option("--host", args->host, "The address to listen on");
  cmd->add_option("--port,-p", args->port, "The port to listen on (0: any free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--topic,-t", args->topic, "The topic that keeps the schemas");
  cmd->add_option("--compatibility", args->compatibility,
                  "The default compatibility level: NONE, BACKWARD, FORWARD, FULL, or one of "
                  "them _TRANSITIVE");
  return {cmd, [args] { return run_registry(*args); }};
}

}  // namespace corps::cli
