// corps topics list | describe | create | alter | delete: topic administration.

#include <chrono>
#include <iostream>

#include "commands.hpp"
#include "connection.hpp"
#include "corps/admin.hpp"
#include "corps/broker.hpp"
#include "corps/config.hpp"

namespace corps::cli {

namespace {

struct TopicsArgs {
  ConnectionFlags connection;
  std::string topic;
  int partitions = 1;
  int replication_factor = -1;  // the cluster's default.replication.factor
  int timeout_ms = 5000;
  std::vector<std::string> configs;
};

std::string join(const std::vector<std::int32_t>& ids) {
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out;
}

std::map<std::string, std::string> config_map(const std::vector<std::string>& configs) {
  std::map<std::string, std::string> out;
  for (const auto& config : configs) out.insert(split_assignment(config, "--config-entry"));
  return out;
}

Admin make_admin(const TopicsArgs& args) {
  const auto connection = connect(args.connection, {});
  return Admin({.brokers = connection.brokers,
                .timeout = std::chrono::milliseconds(args.timeout_ms),
                .properties = connection.properties});
}

int list(const TopicsArgs& args) {
  auto admin = make_admin(args);
  for (const auto& topic : admin.list_topics()) {
    std::cout << topic.name << "\tpartitions=" << topic.partitions.size() << '\n';
  }
  return 0;
}

int describe(const TopicsArgs& args) {
  const auto connection = connect(args.connection, {});
  Admin admin({.brokers = connection.brokers,
               .timeout = std::chrono::milliseconds(args.timeout_ms),
               .properties = connection.properties});
  const auto topic = admin.describe_topic(args.topic);
  std::cout << "topic " << topic.name << " with " << topic.partitions.size() << " partitions\n";
  for (const auto& partition : topic.partitions) {
    std::cout << "  partition " << partition.id << "\tleader " << partition.leader << "\treplicas "
              << join(partition.replicas) << "\tin-sync " << join(partition.in_sync_replicas)
              << '\n';
  }
  if (is_embedded_broker(connection.brokers)) {
    // Nothing is missing: the embedded broker keeps no configs to describe.
    std::cout << "configs: none (the embedded broker keeps no topic configs)\n";
    return 0;
  }
  try {
    const auto configs = admin.topic_configs(args.topic);
    std::cout << "configs:\n";
    for (const auto& [name, value] : configs) std::cout << "  " << name << '=' << value << '\n';
  } catch (const Exception& e) {
    // The partitions were described; only the configs are missing, and the
    // exit code says the answer is partial.
    std::cerr << "corps: configs not available: " << e.error().message() << '\n';
    return 3;
  }
  return 0;
}

int create(const TopicsArgs& args) {
  const auto connection = connect(args.connection, {});
  Admin admin({.brokers = connection.brokers,
               .timeout = std::chrono::milliseconds(args.timeout_ms),
               .properties = connection.properties});
  admin.create_topic({args.topic, args.partitions, args.replication_factor},
                     config_map(args.configs));
  std::cout << "created " << args.topic << " with " << args.partitions
            << " partitions, replication "
            << (args.replication_factor > 0 ? std::to_string(args.replication_factor)
                                            : std::string("the cluster's default"))
            << '\n';
  return 0;
}

int remove(const TopicsArgs& args) {
  auto admin = make_admin(args);
  admin.delete_topic(args.topic);
  std::cout << "deleted " << args.topic << '\n';
  return 0;
}

int alter(const TopicsArgs& args, bool partitions_given) {
  if (!partitions_given && args.configs.empty()) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "topics alter needs --partitions N and/or --config-entry NAME=VALUE"));
  }
  auto admin = make_admin(args);
  if (partitions_given) {
    admin.add_partitions(args.topic, args.partitions);
    std::cout << args.topic << " now has " << args.partitions << " partitions\n";
  }
  if (!args.configs.empty()) {
    admin.alter_topic_configs(args.topic, config_map(args.configs));
    std::cout << args.topic << " configs set\n";
  }
  return 0;
}

}  // namespace

Command add_topics_command(CLI::App& app) {
  auto args = std::make_shared<TopicsArgs>();
  auto* cmd = app.add_subcommand("topics",
                                 "List, describe, create, alter and delete topics (Kafka's Admin "
                                 "API). The embedded broker can list, describe and create; "
                                 "altering, deleting and configs need a real Kafka cluster.");
  cmd->require_subcommand(1);
  auto* list_cmd = cmd->add_subcommand("list", "List every topic with its partition count");
  auto* describe_cmd = cmd->add_subcommand(
      "describe", "Show a topic's partitions (leader, replicas, in-sync) and configs");
  auto* create_cmd = cmd->add_subcommand("create", "Create a topic");
  auto* alter_cmd = cmd->add_subcommand("alter", "Add partitions to a topic or change its configs");
  auto* delete_cmd = cmd->add_subcommand("delete", "Delete a topic and every record in it");
  for (auto* sub : {list_cmd, describe_cmd, create_cmd, alter_cmd, delete_cmd}) {
    add_broker_flags(*sub, args->connection);  // topics have no types
    sub->add_option("--timeout", args->timeout_ms, "How long each request may take, in ms")
        ->check(CLI::PositiveNumber);
  }
  for (auto* sub : {describe_cmd, create_cmd, alter_cmd, delete_cmd})
    sub->add_option("topic", args->topic, "The topic")->required();
  create_cmd->add_option("--partitions", args->partitions, "Partitions")
      ->check(CLI::PositiveNumber);
  create_cmd
      ->add_option("--replication-factor", args->replication_factor,
                   "Replicas of each partition (default: the cluster's default.replication.factor)")
      ->check(CLI::PositiveNumber);
  auto* new_partitions =
      alter_cmd
          ->add_option("--partitions", args->partitions, "Grow the topic to this many partitions")
          ->check(CLI::PositiveNumber);
  for (auto* sub : {create_cmd, alter_cmd}) {
    sub->add_option("--config-entry", args->configs, "A topic config NAME=VALUE (repeatable)");
  }
  return {cmd, [=] {
            if (list_cmd->parsed()) return list(*args);
            if (describe_cmd->parsed()) return describe(*args);
            if (create_cmd->parsed()) return create(*args);
            if (delete_cmd->parsed()) return remove(*args);
            return alter(*args, new_partitions->count() > 0);
          }};
}

}  // namespace corps::cli
