// The soak on a real Apache Kafka cluster, one that scripts/kafka.sh runs
// (`scripts/kafka.sh start --nodes 3 --name NAME`): its faults are the
// script's own (kill -9, restart, pause, isolate a node) and a leader moved
// by Kafka's own tools (a reassignment that puts another broker first, then
// a preferred-leader election).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cluster.hpp"

namespace corps::soak {

class KafkaCluster : public Cluster {
 public:
  /// Takes the cluster `name` that `script` (scripts/kafka.sh) runs, empties
  /// it (corps::testing::clear_cluster), and makes `topic` with `partitions`
  /// partitions on every broker (up to 3), each write acknowledged by 2
  /// (min.insync.replicas). Throws std::runtime_error if it cannot.
  KafkaCluster(std::string script, std::string name, const std::string& topic, int partitions,
               const std::string& work_dir);
  /// Heals what the nemesis left hurt.
  ~KafkaCluster() override;
  KafkaCluster(const KafkaCluster&) = delete;
  KafkaCluster& operator=(const KafkaCluster&) = delete;

  [[nodiscard]] const std::string& bootstrap_servers() const noexcept override {
    return bootstrap_;
  }
  [[nodiscard]] int brokers() const noexcept override { return brokers_; }
  [[nodiscard]] std::vector<Fault> broker_faults() const override;
  [[nodiscard]] bool settled() override;
  bool start(Fault fault, int broker, std::uint32_t detail) override;
  void end(Fault fault, int broker) override;
  void heal() override;
  bool alive(std::string& why) override;
  [[nodiscard]] std::string logs() const override;

 private:
  /// Runs scripts/kafka.sh with `arguments` (and --name) and waits; its
  /// output goes to the nemesis log. Returns its exit status.
  int run(std::vector<std::string> arguments);
  /// Starts `command` (argv) in the background: one at a time.
  void launch(std::vector<std::string> command, std::string what);
  /// Waits for what launch() started, if anything.
  void finish_launched();
  std::vector<std::string> script_command(std::vector<std::string> arguments) const;
  [[nodiscard]] pid_t node_pid(int broker) const;

  std::string script_;
  std::string name_;
  std::string topic_;
  int partitions_;
  std::string work_dir_;
  std::string log_;
  std::string cluster_dir_;
  std::string bootstrap_;
  int brokers_ = 0;
  bool can_isolate_ = false;
  pid_t launched_ = -1;
  std::string launched_what_;
  int restarting_ = 0;    // the broker being started again, if any
  std::set<int> killed_;  // held down by the nemesis
  std::set<int> paused_;
  std::set<int> isolated_;
  std::chrono::steady_clock::time_point last_check_{};
};

}  // namespace corps::soak
