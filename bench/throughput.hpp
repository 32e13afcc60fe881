// Throughput: records per second, bytes per second and CPU per record, each
// way, for one client on one payload.
//
// The embedded broker keeps only about 5 MiB per partition, so records go in
// rounds that fit: produce a round (timed until every record is
// acknowledged), then read it back with a fresh consumer (timed until the
// last record arrives), and so on. A fresh consumer per round means no
// record was fetched in the background while the producer was being timed.
// Every round is checked: each partition got exactly its share, and the
// consumer got every record, once; otherwise the run fails.
#pragma once

#include <cstddef>
#include <string>

#include "client.hpp"
#include "corps_bench/results.pb.h"
#include "payloads.hpp"
#include "progress.hpp"
#include "resources.hpp"

namespace corps::bench {

/// Where and how much to send.
struct ThroughputPlan {
  /// An empty topic with `partitions` partitions.
  std::string topic;
  int partitions = 1;
  /// How many records; a multiple of `partitions`.
  std::size_t records = 0;
};

/// Both directions.
struct ThroughputResult {
  proto::Throughput produce;
  proto::Throughput consume;
};

/// Runs the plan with `client`. Throws std::runtime_error if a record is lost.
[[nodiscard]] ThroughputResult measure_throughput(Client& client, Payload& payload,
                                                  const ThroughputPlan& plan, Progress& progress);

/// `records` of `bytes` in all, moved in `usage`.
[[nodiscard]] proto::Throughput rate_of(std::size_t records, double bytes, const Usage& usage);

}  // namespace corps::bench
