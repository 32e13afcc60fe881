// What a producer and a consumer record in their Metrics: the series per
// channel and partition, found under one short lock, then an atomic add;
// and librdkafka's statistics, as gauges.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corps/consumer.hpp"
#include "corps/error.hpp"
#include "corps/metrics.hpp"

namespace corps::detail {

/// The series both kinds of client keep.
class ClientMetrics {
 public:
  /// `client` labels every series (a producer's client id, a consumer's
  /// group).
  ClientMetrics(std::shared_ptr<Metrics> metrics, std::string client);

  /// Gauges from a librdkafka statistics document (statistics.interval.ms):
  /// the client's totals (corps_kafka_*) and each partition's queue.
  void kafka_statistics(std::string_view json);

  [[nodiscard]] Metrics& metrics() const noexcept { return *metrics_; }

  /// How often librdkafka reports its statistics.
  static constexpr int statistics_interval_ms = 5'000;

 protected:
  /// A counter per partition of a channel, made on first use.
  class PartitionCounters {
   public:
    Counter& at(ClientMetrics& owner, std::string_view name, std::string_view help,
                std::string_view channel, std::int32_t partition);

   private:
    std::vector<Counter*> by_partition_;
  };

  [[nodiscard]] MetricLabels labels(std::string_view channel) const;
  [[nodiscard]] MetricLabels labels(std::string_view channel, std::string_view name,
                                    std::string value) const;

  std::shared_ptr<Metrics> metrics_;
  std::string client_;
  std::mutex mutex_;  // the per-channel maps of the derived classes
};

class ProducerMetrics final : public ClientMetrics {
 public:
  using ClientMetrics::ClientMetrics;

  /// A record of `channel` encoded in `encode_seconds` and handed on.
  void sent(std::string_view channel, double encode_seconds);
  /// Its delivery report.
  void delivered(std::string_view channel, std::int32_t partition);
  void failed(std::string_view channel, Errc code);

 private:
  struct Channel {
    Counter* sent = nullptr;
    Histogram* encode = nullptr;
    PartitionCounters delivered;
    std::map<Errc, Counter*> failed;
  };
  Channel& channel(std::string_view name);
  std::map<std::string, Channel, std::less<>> channels_;
};

class ConsumerMetrics final : public ClientMetrics {
 public:
  using ClientMetrics::ClientMetrics;

  /// A record fetched and decoded (or not) in `decode_seconds`.
  void decoded(std::string_view channel, std::int32_t partition, double decode_seconds);
  /// A record that did not decode, by the stage it failed at.
  void decode_failed(std::string_view channel, Stage stage);
  void dead_lettered(std::string_view channel);
  /// A handler called `times` more than once for one record.
  void retried(std::string_view channel, int times);
  /// Each partition's lag as the consumer reads it now (one of -1, not
  /// known, is left out); the lag of a partition it reported before and
  /// does not read now (taken away by a rebalance) is dropped.
  void lag(const std::vector<PartitionLag>& partitions);
  /// Drops every lag this consumer reported: once it is closed, it reads
  /// nothing, and a lag left at its last value would look true.
  void forget_lag();

 private:
  struct Channel {
    PartitionCounters consumed;
    Histogram* decode = nullptr;
    Counter* dead_letters = nullptr;
    Counter* retries = nullptr;
    std::map<Stage, Counter*> failed;
  };
  Channel& channel(std::string_view name);
  std::map<std::string, Channel, std::less<>> channels_;
  std::set<std::pair<std::string, std::int32_t>> lag_reported_;  // topic, partition
};

}  // namespace corps::detail
