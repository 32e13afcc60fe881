#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "corps/broker.hpp"
#include "corps/config.hpp"
#include "corps/embedded_schema_registry.hpp"
#include "corps/error.hpp"
#include "corps/http_server.hpp"
#include "corps/logging.hpp"
#include "corps/shutdown.hpp"

namespace corps::cli {

namespace {

struct BrokerArgs {
  std::vector<std::string> topics;
  int brokers = 1;
  bool no_address_file = false;
  bool registry = false;
  int registry_port = 8081;
};

TopicSpec parse_topic(const std::string& text, int brokers) {
  TopicSpec spec;
  const auto colon = text.find(':');
  spec.name = text.substr(0, colon);
  if (colon != std::string::npos) {
    try {
      spec.partitions = std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "--topic '" + text + "': expected NAME or NAME:PARTITIONS"));
    }
  }
  spec.replication_factor = std::min(brokers, 3);
  return spec;
}

// A second broker writing the address file would hide the first from every
// program that finds its broker there, and remove the file when it stops:
// refused, naming the ways to run both.
void refuse_a_second_broker() {
  const auto running = read_broker_address_file();
  if (running.empty()) return;
  throw Exception(
      Error(Errc::invalid_argument, Stage::config,
            "a corps broker already runs at " + running + " (its address is in " +
                broker_address_file().string() +
                "): stop it first, or run this one with --no-address-file and give its address to "
                "programs with -b, or with CORPS_BROKER_FILE naming another file"));
}

// The broker's control path: librdkafka's mock cluster answers no
// CreateTopics, so `corps topics create` asks this process, which creates
// the topic in the cluster it runs. POST /topics/NAME?partitions=N
// [&replication_factor=R]: 201, or 409 if it exists, 400 if refused.
HttpResponse control(EmbeddedBroker& broker, const HttpRequest& request) {
  if (request.path.size() != 2 || request.path[0] != "topics") {
    return {.status = 404, .body = "not found: POST /topics/NAME?partitions=N\n"};
  }
  if (request.method != "POST") return {.status = 405, .body = "POST /topics/NAME\n"};
  TopicSpec topic{.name = request.path[1]};
  try {
    if (const auto partitions = request.param("partitions"); !partitions.empty()) {
      topic.partitions = std::stoi(std::string(partitions));
    }
    const auto replicas = request.param("replication_factor");
    topic.replication_factor =
        replicas.empty() ? std::min(broker.broker_count(), 3) : std::stoi(std::string(replicas));
  } catch (const std::exception&) {
    return {.status = 400, .body = "partitions and replication_factor are whole numbers\n"};
  }
  if (topic.replication_factor <= 0) topic.replication_factor = std::min(broker.broker_count(), 3);
  try {
    broker.create_topic(topic);
  } catch (const Exception& e) {
    const bool exists = e.error().kafka_error() == KafkaError::topic_already_exists;
    return {.status = exists ? 409 : 400, .body = e.error().message() + "\n"};
  }
  logger()->info("created topic {} with {} partition(s), replication {}", topic.name,
                 topic.partitions, topic.replication_factor);
  return {.status = 201, .body = "created\n"};
}

int run_broker(const BrokerArgs& args) {
  install_shutdown_handlers();
  if (!args.no_address_file) refuse_a_second_broker();
  EmbeddedBrokerOptions options;
  options.broker_count = args.brokers;
  for (const auto& topic : args.topics) options.topics.push_back(parse_topic(topic, args.brokers));
  EmbeddedBroker broker(options);
  std::optional<HttpServer> control_server;
  if (!args.no_address_file) {
    // A request says all in its path and query: no body is taken.
    HttpServerOptions control_options{.name = "the embedded broker's control path"};
    control_options.limits.max_body_bytes = 0;
    control_server.emplace(
        std::move(control_options),
        [&broker](const HttpRequest& request) { return control(broker, request); });
    write_broker_address_file(broker.bootstrap_servers(), control_server->url());
  }
  // The address alone on stdout, so scripts can capture it.
  std::cout << broker.bootstrap_servers() << std::endl;
  std::optional<EmbeddedSchemaRegistry> registry;
  if (args.registry) {
    registry.emplace(EmbeddedSchemaRegistryOptions{.brokers = broker.bootstrap_servers(),
                                                   .port = args.registry_port});
    // The registry's URL on a line of its own, after the broker's address.
    std::cout << registry->url() << std::endl;
  }
  logger()->info(
      "embedded broker with {} broker(s) at {}{}; Ctrl-C stops it", args.brokers,
      broker.bootstrap_servers(),
      args.no_address_file ? "" : " (address in " + broker_address_file().string() + ")");
  while (!shutdown_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!args.no_address_file) remove_broker_address_file();
  logger()->info("embedded broker stopped");
  return 0;
}

}  // namespace

Command add_broker_command(CLI::App& app) {
  auto args = std::make_shared<BrokerArgs>();
  auto* cmd = app.add_subcommand(
      "broker",
      "Run an embedded Kafka broker (in memory) until Ctrl-C. Prints its address and writes it "
      "to the address file ($CORPS_BROKER_FILE, else $XDG_RUNTIME_DIR/corps/broker, else "
      "/tmp/corps-UID/broker), where every corps program finds it without -b; kcat and other "
      "clients take the printed address with -b.");
  cmd->add_option("--topic,-t", args->topics, "Create a topic at start: NAME or NAME:PARTITIONS")
      ->type_name("NAME[:N]");
  cmd->add_option("--brokers-count", args->brokers, "How many brokers the cluster has")
      ->check(CLI::Range(1, 16));
  cmd->add_flag("--registry", args->registry,
                "Also run a schema registry (as `corps registry` does) on this broker; its URL is "
                "printed on the line after the broker's address");
  cmd->add_option("--registry-port", args->registry_port,
                  "The schema registry's port (0: any free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_flag("--no-address-file", args->no_address_file,
                "Do not write the address file (other programs will not find this broker)");
  return {cmd, [args] { return run_broker(*args); }};
}

}  // namespace corps::cli
