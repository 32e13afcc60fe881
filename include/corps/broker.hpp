// EmbeddedBroker: a Kafka-protocol broker inside this process.
//
// An RAII wrapper over librdkafka's mock cluster: real TCP listeners on
// 127.0.0.1 speaking the Kafka protocol, so any Kafka client on the machine
// (corps, kcat, kafka-python, confluent-kafka) can produce and consume.
//
// Its limits, honestly (librdkafka 2.0.2):
//  - in memory only: everything is gone when it is destroyed;
//  - each partition keeps about the last 5 MiB (and 100,000 message sets);
//    older records are dropped;
//  - no topic admin API (CreateTopics, CreatePartitions, DescribeConfigs):
//    create topics with create_topic(); a topic first named by a client is
//    created with 4 partitions;
//  - the first join of a consumer group waits about 3 s;
//  - only transactional producers are de-duplicated.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corps/error.hpp"

namespace corps {

/// A topic to create.
struct TopicSpec {
  std::string name;
  int partitions = 1;
  /// Replicas of each partition; -1 asks a real cluster for its
  /// default.replication.factor (Admin::create_topic only).
  int replication_factor = 1;
};

/// Kafka's rule for a topic's name: 1 to 249 of a-z, A-Z, 0-9, '.', '_'
/// and '-'.
[[nodiscard]] bool valid_topic_name(std::string_view name) noexcept;

/// Kafka request types, for injecting errors into one kind of request.
enum class KafkaApi : std::int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  sync_group = 14,
  init_producer_id = 22,
};

/// Embedded broker settings.
struct EmbeddedBrokerOptions {
  /// How many brokers the cluster has (ids 1..broker_count).
  int broker_count = 1;
  /// Topics created at start.
  std::vector<TopicSpec> topics;
};

/// A Kafka cluster in this process, listening on 127.0.0.1 at random ports.
/// Thread-safe. Not copyable; movable.
class EmbeddedBroker {
 public:
  /// Starts the cluster. Throws corps::Exception (Stage::config) if it cannot.
  explicit EmbeddedBroker(EmbeddedBrokerOptions options = {});
  ~EmbeddedBroker();
  EmbeddedBroker(EmbeddedBroker&&) noexcept;
  EmbeddedBroker& operator=(EmbeddedBroker&&) noexcept;

  /// The bootstrap address list, e.g. "127.0.0.1:39417".
  [[nodiscard]] const std::string& bootstrap_servers() const noexcept;
  /// The number of brokers.
  [[nodiscard]] int broker_count() const noexcept;

  /// Creates a topic. Throws corps::Exception (Stage::admin) on failure:
  /// a name Kafka refuses (valid_topic_name), more than 10,000 partitions
  /// (the broker is in memory), a replication factor above broker_count(),
  /// or a topic that exists (KafkaError::topic_already_exists).
  void create_topic(const TopicSpec& topic);

  /// Fault control: broker `broker_id` stops answering (connections drop).
  void set_broker_down(std::int32_t broker_id);
  /// Fault control: broker `broker_id` answers again.
  void set_broker_up(std::int32_t broker_id);
  /// Fault control: every answer from `broker_id` is delayed by `rtt`.
  void set_round_trip_time(std::int32_t broker_id, std::chrono::milliseconds rtt);
  /// Fault control: the next requests of type `api` fail, one per entry of
  /// `errors`, with that error.
  void push_request_errors(KafkaApi api, const std::vector<KafkaError>& errors);
  /// Fault control: the next requests of type `api` to broker `broker_id`
  /// are carried out at once but answered late, one per entry of `delays`:
  /// a client that gives up waiting does not know they took effect.
  void push_request_delays(std::int32_t broker_id, KafkaApi api,
                           const std::vector<std::chrono::milliseconds>& delays);
  /// Fault control: moves the leader of a partition.
  void set_partition_leader(std::string_view topic, std::int32_t partition, std::int32_t broker_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
