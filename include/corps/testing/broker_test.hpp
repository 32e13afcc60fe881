// corps::testing: a GoogleTest fixture that gives each test its own embedded
// broker, with helpers to create topics, build clients, write raw (even
// malformed) records, and drain consumers.
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

/// Polls `consumer` until `count` records arrived or `timeout` passed.
std::vector<Record> consume(Consumer& consumer, std::size_t count,
                            std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// A fixture owning an embedded broker for the length of one test.
class BrokerTest : public ::testing::Test {
 protected:
  BrokerTest();
  /// A cluster of several brokers, e.g. for leader changes.
  explicit BrokerTest(EmbeddedBrokerOptions options);
  ~BrokerTest() override;

  /// The broker's bootstrap address.
  [[nodiscard]] const std::string& brokers() const { return broker_->bootstrap_servers(); }
  /// The broker, for topic creation and fault injection.
  [[nodiscard]] EmbeddedBroker& broker() { return *broker_; }
  /// Creates a topic with `partitions` partitions, each on
  /// `replication_factor` brokers.
  void create_topic(const std::string& name, int partitions = 1, int replication_factor = 1);
  /// Options for a producer on this broker that fails fast.
  [[nodiscard]] ProducerOptions producer_options() const;
  /// Options for a consumer of `channels` in `group` on this broker.
  [[nodiscard]] ConsumerOptions consumer_options(std::string group,
                                                 std::vector<std::string> channels) const;

  /// Channels bound for the test; bind before creating clients.
  ChannelRegistry registry_;

 private:
  std::unique_ptr<EmbeddedBroker> broker_;
};

}  // namespace corps::testing
