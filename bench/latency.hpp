// End-to-end latency at a fixed rate: from handing a message to the producer
// (for raw librdkafka: its bytes) to having it back from the consumer, while
// the consumer reads alongside. Each record carries its sequence number in a
// header, the same for both clients.
#pragma once

#include <string>

#include "client.hpp"
#include "corps_bench/results.pb.h"
#include "payloads.hpp"
#include "progress.hpp"

namespace corps::bench {

/// How fast and for how long to send.
struct LatencyPlan {
  /// An empty topic with `partitions` partitions.
  std::string topic;
  int partitions = 1;
  /// Records per second.
  double rate = 1000;
  double seconds = 5;
};

/// Runs the plan with `client`. Throws std::runtime_error if a record is lost.
[[nodiscard]] proto::Latency measure_latency(Client& client, Payload& payload,
                                             const LatencyPlan& plan, Progress& progress);

}  // namespace corps::bench
