// corps::testing: a GoogleTest fixture that gives each test a broker of its
// own, with helpers to create topics, build clients, write raw (even
// malformed) records, and drain consumers.
//
// The broker is an embedded one by default, new for each test. With
// CORPS_TEST_TARGET=kafka the same tests run on a real Apache Kafka cluster
// instead (CORPS_TEST_BROKERS, default kafka_test_brokers()), emptied of
// every topic and group before each test, so that each starts as on a new
// broker: such tests must then run one at a time.
//
// Link `corps::testing` and derive a fixture from corps::testing::BrokerTest.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corps/broker.hpp"
#include "corps/consumer.hpp"
#include "corps/headers.hpp"
#include "corps/producer.hpp"
#include "corps/registry.hpp"

namespace corps::testing {

/// A raw record to write as-is, bypassing MessageHandler: for feeding
/// consumers malformed or foreign input.
struct RawValue {
  /// The value's bytes, or nullopt for a null value (a tombstone).
  std::optional<std::string> value;
  std::optional<std::string> key;
  Headers headers;
  std::optional<std::int32_t> partition;
};

/// Writes `records` to `topic` on `brokers` exactly as given (up to 64 MiB
/// each) and waits for each to be acknowledged. Returns their offsets.
/// Throws corps::Exception if any is not delivered.
std::vector<std::int64_t> produce_raw(const std::string& brokers, const std::string& topic,
                                      const std::vector<RawValue>& records);

/// The committed offset (the next record to read) of `group` in `topic`
/// [`partition`], or -1 if none. Asks the broker without joining the group,
/// so the group's members are not disturbed. Throws corps::Exception.
std::int64_t committed_offset(const std::string& brokers, const std::string& group,
                              const std::string& topic, std::int32_t partition);

/// The broker a process's tests run on.
enum class TestTarget {
  embedded_broker,  ///< a new EmbeddedBroker for each test (the default)
  kafka,            ///< a real Kafka cluster (CORPS_TEST_TARGET=kafka)
};

/// The target this process's tests run on, from CORPS_TEST_TARGET
/// ("kafka", or unset / "embedded"). Throws corps::Exception (Stage::config)
/// for any other value.
[[nodiscard]] TestTarget test_target();

/// The real cluster's bootstrap list: CORPS_TEST_BROKERS, else
/// "127.0.0.1:29092", the cluster `scripts/kafka.sh start --name test
/// --port 29092` runs (CTest's `kafka` fixture starts it).
[[nodiscard]] std::string kafka_test_brokers();

/// Empties a real cluster for the next test: deletes every topic but
/// Kafka's own (`__*`) and every consumer group, and waits until they are
/// gone. A group whose members are still alive (a process killed a moment
/// ago, not yet expired) cannot be deleted; it is left, and is empty of
/// offsets all the same, since its topics went. Throws corps::Exception.
void clear_cluster(const std::string& brokers);

/// Polls `consumer` until `count` records arrived or `timeout` passed.
std::vector<Record> consume(Consumer& consumer, std::size_t count,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A fixture giving one test a broker: an embedded one of its own, or the
/// real cluster of test_target() emptied for it.
class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest();
  /// A cluster of several brokers, e.g. for leader changes. On a real
  /// cluster `options.topics` are created and a `broker_count` above 1 is
  /// refused: such a test belongs to the embedded broker alone.
  explicit BrokerTest(EmbeddedBrokerOptions options);
  ~BrokerTest() override;

  /// The broker's bootstrap address.
  [[nodiscard]] const std::string& brokers() const { return brokers_; }
  /// True when the test runs on a real Kafka cluster.
  [[nodiscard]] bool on_real_kafka() const { return broker_ == nullptr; }
  /// The embedded broker, for fault injection. On a real cluster there is
  /// none: this throws std::logic_error. A test that needs it belongs to a
  /// suite named Mock*, which runs on the embedded broker alone.
  [[nodiscard]] EmbeddedBroker& broker();
  /// Creates a topic with `partitions` partitions, each on
  /// `replication_factor` brokers, and waits until every partition has a
  /// leader.
  void create_topic(const std::string& name, int partitions = 1, int replication_factor = 1);
  /// Options for a producer on this broker that fails fast.
  [[nodiscard]] ProducerOptions producer_options() const;
  /// Options for a consumer of `channels` in `group` on this broker.
  [[nodiscard]] ConsumerOptions consumer_options(std::string group,
                                                 std::vector<std::string> channels) const;

  /// Channels bound for the test; bind before creating clients.
  ChannelRegistry registry_;

 private:
  std::unique_ptr<EmbeddedBroker> broker_;  // null on a real cluster
  std::string brokers_;
};

}  // namespace corps::testing
