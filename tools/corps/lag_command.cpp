// corps lag GROUP [TOPIC...]: how far a consumer group is behind, per
// partition, in kafka-consumer-groups --describe's columns.
#include <algorithm>
#include <iostream>

#include "columns.hpp"
#include "commands.hpp"
#include "connection.hpp"
#include "corps/admin.hpp"

namespace corps::cli {

namespace {

struct LagArgs {
  ConnectionFlags connection;
  std::string group;
  std::vector<std::string> topics;
  int timeout_ms = 10'000;
};

// A figure, or "-" for none, as kafka-consumer-groups prints it.
std::string figure(std::int64_t value) {
  return value < 0 ? "-" : std::to_string(value);
}

int print_lag(const LagArgs& args) {
  const auto connection = connect(args.connection, {});
  Admin admin({.brokers = connection.brokers,
               .timeout = std::chrono::milliseconds(args.timeout_ms),
               .properties = connection.properties});
  const auto partitions = admin.group_lag(args.group, args.topics);
  if (partitions.empty()) {
    std::cerr << "corps: group '" << args.group << "' has committed no offsets"
              << (args.topics.empty() ? "" : " in the topics named") << '\n';
    return 3;
  }
  const std::vector<std::string> heading = {"GROUP",          "TOPIC",          "PARTITION",
                                            "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"};
  std::vector<std::vector<std::string>> rows{heading};
  std::int64_t total = 0;
  bool uncommitted = false;
  for (const auto& partition : partitions) {
    // A partition the group has no commit in is read from its start by a
    // corps consumer of the group: all of it is behind.
    std::int64_t lag = partition.lag();
    if (partition.committed < 0 && partition.end >= 0) {
      lag = partition.end - std::max<std::int64_t>(partition.start, 0);
      uncommitted = true;
    }
    rows.push_back({args.group, partition.topic, std::to_string(partition.partition),
                    figure(partition.committed), figure(partition.end), figure(lag)});
    total += std::max<std::int64_t>(lag, 0);
  }
  print_columns(std::cout, rows);
  std::cout << "total lag " << total << '\n';
  if (uncommitted) {
    std::cerr << "corps: where CURRENT-OFFSET is -, the group has no commit: its lag counts from "
                 "the partition's start, where the group's corps consumers begin\n";
  }
  return 0;
}

}  // namespace

Command add_lag_command(CLI::App& app) {
  auto args = std::make_shared<LagArgs>();
  auto* cmd = app.add_subcommand(
      "lag",
      "Show how far a consumer group is behind: per partition, its committed offset, the "
      "partition's end and the lag between them (kafka-consumer-groups --describe's columns). "
      "Exits 3 if the group committed nothing.");
  add_broker_flags(*cmd, args->connection);
  cmd->add_option("group", args->group, "The consumer group")->required();
  cmd->add_option("topic", args->topics,
                  "Topics to show, every partition of each (default: every topic the group "
                  "committed in)");
  cmd->add_option("--timeout", args->timeout_ms, "How long each request may take, in ms")
      ->check(CLI::PositiveNumber);
  return {cmd, [=] { return print_lag(*args); }};
}

}  // namespace corps::cli
