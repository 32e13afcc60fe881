// Cluster administration through Kafka's Admin API: topics (list, describe,
// create, add partitions, read and change configs, delete), consumer groups
// (list, how far behind, delete).
//
// A real Kafka cluster supports all of it. The embedded broker has no topic
// admin API (librdkafka's mock cluster answers only metadata): list and
// describe work, the rest fails with Errc::unsupported saying so.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corps/broker.hpp"
#include "corps/error.hpp"

namespace corps {

/// One partition as the cluster's metadata describes it.
struct PartitionInfo {
  std::int32_t id = -1;
  std::int32_t leader = -1;
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> in_sync_replicas;
};

/// One topic as the cluster's metadata describes it.
struct TopicInfo {
  std::string name;
  std::vector<PartitionInfo> partitions;
};

/// One broker of the cluster.
struct BrokerInfo {
  std::int32_t id = -1;
  std::string host;
  int port = 0;
};

/// How far a consumer group is behind in one partition, as
/// kafka-consumer-groups --describe shows it.
struct GroupLag {
  std::string topic;
  std::int32_t partition = -1;
  /// The group's committed offset: the next record it will read; -1 if the
  /// group committed none in this partition.
  std::int64_t committed = -1;
  /// The partition's end (high watermark): the offset the next record
  /// written gets.
  std::int64_t end = -1;
  /// The partition's start (low watermark): records before it are gone.
  std::int64_t start = -1;
  /// Records written and not yet handled: end - committed, or -1 when
  /// nothing is committed (how far behind then depends on the group's
  /// auto.offset.reset).
  [[nodiscard]] std::int64_t lag() const noexcept {
    return committed < 0 ? -1 : (end > committed ? end - committed : 0);
  }
};

/// Admin client settings.
struct AdminOptions {
  /// Bootstrap brokers, "host:port[,host:port...]". Required.
  std::string brokers;
  /// How long each request may take.
  std::chrono::milliseconds timeout{10'000};
  /// Raw librdkafka properties (security settings, ...).
  std::map<std::string, std::string> properties;
};

/// Administers topics. Every call blocks until the cluster answers or the
/// timeout passes, and throws corps::Exception (Stage::admin) on failure.
/// Thread-safe.
class Admin {
 public:
  /// Connects. Throws corps::Exception (Stage::config or Stage::connect).
  explicit Admin(AdminOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  /// The cluster's brokers.
  [[nodiscard]] std::vector<BrokerInfo> brokers();
  /// Every topic, sorted by name (internal topics included).
  [[nodiscard]] std::vector<TopicInfo> list_topics();
  /// One topic; Errc::unknown_channel if it does not exist.
  [[nodiscard]] TopicInfo describe_topic(const std::string& topic);
  /// The topic's configuration (DescribeConfigs).
  [[nodiscard]] std::map<std::string, std::string> topic_configs(const std::string& topic);
  /// How far `group` is behind, per partition, sorted by topic and
  /// partition: every partition of `topics` (those with no commit too) or,
  /// with no topics, of every topic the group committed an offset in
  /// (OffsetFetch, then each partition's watermarks).
  /// Errc::unknown_channel if a topic named does not exist. Works on the
  /// embedded broker.
  [[nodiscard]] std::vector<GroupLag> group_lag(const std::string& group,
                                                const std::vector<std::string>& topics = {});
  /// Creates a topic with `configs` (CreateTopics). On an embedded broker,
  /// which answers no CreateTopics, the topic is made in the broker itself
  /// (an EmbeddedBroker of this process, or a `corps broker` through its
  /// control path); configs are refused there (Errc::unsupported), as it
  /// keeps none.
  void create_topic(const TopicSpec& topic, const std::map<std::string, std::string>& configs = {});
  /// Grows a topic to `total` partitions (CreatePartitions).
  void add_partitions(const std::string& topic, int total);
  /// Sets topic configs (AlterConfigs; configs not named return to default).
  void alter_topic_configs(const std::string& topic,
                           const std::map<std::string, std::string>& configs);
  /// Deletes a topic and every record in it (DeleteTopics).
  /// Errc::unknown_channel if there is no such topic. The name may be
  /// taken again once the call returns.
  void delete_topic(const std::string& topic);
  /// Deletes the records of `topic` [`partition`] before offset `before`
  /// (DeleteRecords), as retention would: the partition then starts at
  /// `before`. Returns the partition's new start (low watermark).
  std::int64_t delete_records(const std::string& topic, std::int32_t partition,
                              std::int64_t before);
  /// The consumer groups the cluster knows, members or not, sorted
  /// (ListGroups, asked of every broker).
  [[nodiscard]] std::vector<std::string> list_groups();
  /// Deletes a group and its committed offsets (DeleteGroups). A group
  /// with members is refused (KafkaError::non_empty_group); one that does
  /// not exist is Errc::unknown_channel.
  void delete_group(const std::string& group);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
