// The soak's cluster: an embedded broker in a process of its own (this
// program run with --role broker), driven through a pipe. A process apart,
// so that a crash of the embedded broker itself (librdkafka's mock asserts
// on some group request sequences) is seen as that, not taken for a verdict
// on corps, and leaves no member behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "corps/broker.hpp"

namespace corps::soak {

class Cluster {
 public:
  /// Starts `brokers` brokers with `topic` of `partitions` partitions, each
  /// on every broker. Throws std::runtime_error if it cannot.
  Cluster(int brokers, const std::string& topic, int partitions, const std::string& work_dir);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] const std::string& bootstrap_servers() const noexcept { return bootstrap_; }
  /// False once the broker process ended; `why` then says how.
  bool alive(std::string& why);

  void set_broker_down(std::int32_t broker);
  void set_broker_up(std::int32_t broker);
  void set_round_trip_time(std::int32_t broker, std::chrono::milliseconds rtt);
  void push_request_errors(KafkaApi api, const std::vector<KafkaError>& errors);
  void set_partition_leader(const std::string& topic, std::int32_t partition, std::int32_t broker);

 private:
  void command(const std::string& line);

  pid_t pid_ = -1;
  int commands_ = -1;  // the write end of the broker's stdin
  std::string bootstrap_;
  std::string log_;
};

/// The broker process's side: runs the cluster and applies the commands
/// read from stdin until it closes.
int run_broker(int brokers, const std::string& topic, int partitions,
               const std::string& address_file);

}  // namespace corps::soak
