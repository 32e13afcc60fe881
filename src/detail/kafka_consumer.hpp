// KafkaConsumer: the librdkafka consumer under corps::Consumer — its
// configuration, subscription or assignment, rebalances, offset store and
// commits, leaving the group, and what the broker says of offsets (lag,
// watermarks, committed). Everything that calls librdkafka's consumer API is
// here; what corps makes of records (decoding, pending offsets, dead
// letters) is in the Consumer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corps/consumer.hpp"
#include "detail/kafka_client.hpp"
#include "detail/offset_tracker.hpp"
#include "detail/rdkafka_handles.hpp"

namespace corps::detail {

/// The librdkafka properties of a consumer with `options`.
Properties consumer_properties(const ConsumerOptions& options);

/// Told of rebalances, from within the Kafka client's rebalance handling.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  /// `partitions` are about to be read by this consumer.
  virtual void assigned(const std::vector<TopicPartition>& partitions) = 0;
  /// `partitions` are about to go to other members: what was handled of them
  /// should be committed now, before they do.
  virtual void revoking(const std::vector<TopicPartition>& partitions) = 0;
};

class KafkaConsumer final : public LogFacts {
 public:
  /// Connects (waiting up to options.connect_timeout for a broker); throws
  /// corps::Exception if it cannot. `options` and `listener` must outlive it.
  KafkaConsumer(const ConsumerOptions& options, RebalanceListener& listener);
  /// Destroys the client without leaving the group again: leave_within()
  /// has done that, or given up on a broker that went away.
  ~KafkaConsumer() override;
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  /// Joins the group, subscribed to options.channels.
  void subscribe();
  /// Without a group: reads every partition of options.channels, from
  /// start_offset or start_from. Returns each partition with the offset it
  /// starts at, where that is a real offset (not "beginning" or "end").
  std::vector<std::pair<TopicPartition, std::int64_t>> assign_all();

  /// The next message or event, or nullptr after `timeout`.
  MessagePtr poll(std::chrono::milliseconds timeout);
  /// A fetch that cannot succeed, reported by the client since last asked.
  std::optional<Error> take_stuck();

  /// Makes `partition` fetch from `offset` (or a logical offset) next; why
  /// not, if it cannot.
  std::optional<std::string> seek(const std::string& topic, std::int32_t partition,
                                  std::int64_t offset);
  /// Marks everything before `next_offset` of the partition handled, for
  /// the next commit.
  Status store(const std::string& topic, std::int32_t partition, std::int64_t next_offset);
  /// Commits stored offsets, waiting at most `timeout` for the broker.
  Status commit_stored_within(std::chrono::milliseconds timeout);
  /// Commits stored offsets (nullopt), or the offset after `record`,
  /// waiting at most `timeout` for the broker (then a retriable timed_out).
  Status commit(const std::optional<RecordLocation>& record, std::chrono::milliseconds timeout);
  /// Leaves the group, serving rebalances, for at most `timeout`; true if
  /// the client closed.
  bool leave_within(std::chrono::milliseconds timeout);
  /// Where librdkafka's statistics documents go (with options.metrics set),
  /// from within poll(); an empty function drops them.
  void on_statistics(std::function<void(std::string_view)> handler) {
    statistics_ = std::move(handler);
  }

  [[nodiscard]] std::vector<TopicPartition> assignment() const;
  [[nodiscard]] std::vector<PartitionLag> lag() const;
  [[nodiscard]] Result<std::pair<std::int64_t, std::int64_t>> watermarks(
      const TopicPartition& partition, std::chrono::milliseconds timeout) const;
  [[nodiscard]] Result<std::int64_t> committed(const TopicPartition& partition,
                                               std::chrono::milliseconds timeout) const;

  // LogFacts
  std::optional<std::int64_t> known_log_start(std::string_view topic,
                                              std::int32_t partition) override;
  std::optional<std::int64_t> known_log_end(std::string_view topic,
                                            std::int32_t partition) override;
  std::int64_t log_start(std::string_view topic, std::int32_t partition) override;
  std::optional<std::vector<std::int64_t>> committed(
      const std::vector<std::pair<std::string, std::int32_t>>& partitions) override;

 private:
  Status commit_within(const rd_kafka_topic_partition_list_t* offsets,
                       std::chrono::milliseconds timeout,
                       const std::optional<RecordLocation>& record);

  bool grouped() const noexcept { return !options_.group_id.empty(); }
  bool nothing_assigned() const;
  static void on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void on_error(rd_kafka_t* client, int err, const char* reason, void* opaque);
  static int on_statistics(rd_kafka_t* client, char* json, std::size_t size, void* opaque);

  const ConsumerOptions& options_;
  RebalanceListener& listener_;
  // Whether the group rebalances incrementally (cooperative-sticky), read
  // from the configuration once: librdkafka 2.0's rd_kafka_rebalance_protocol
  // waits forever when asked from the revoke a close starts (librdkafka
  // issue 4041).
  bool cooperative_ = false;
  KafkaPtr client_;
  std::function<void(std::string_view)> statistics_;
  std::mutex stuck_mutex_;
  std::optional<Error> stuck_;  // from the error callback, for take_stuck()
};

}  // namespace corps::detail
