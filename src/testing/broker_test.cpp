#include "corps/testing/broker_test.hpp"

#include <future>

#include "corps/admin.hpp"

namespace corps::testing {

std::vector<std::int64_t> produce_raw(const std::string& brokers, const std::string& topic,
                                      const std::vector<RawValue>& records) {
  ProducerOptions options;
  options.brokers = brokers;
  options.client_id = "corps-testing-raw";
  options.linger = std::chrono::milliseconds(0);
  options.max_record_bytes = std::size_t{64} << 20;
  options.delivery_timeout = std::chrono::seconds(30);
  Producer producer(ChannelRegistry{}, options);
  std::vector<std::int64_t> offsets;
  for (const auto& record : records) {
    SendOptions send{.key = record.key, .headers = record.headers, .partition = record.partition};
    const auto value = record.value ? std::optional<std::string_view>(*record.value) : std::nullopt;
    // One at a time, so each lands where the one before it did not.
    const DeliveryReport report = producer.send_raw(topic, value, std::move(send)).get();
    if (!report.ok()) throw Exception(report.error());
    offsets.push_back(report.location().offset);
  }
  return offsets;
}

std::int64_t committed_offset(const std::string& brokers, const std::string& group,
                              const std::string& topic, std::int32_t partition) {
  Admin admin({.brokers = brokers});
  for (const auto& lag : admin.group_lag(group, {topic})) {
    if (lag.partition == partition) return lag.committed;
  }
  throw Exception(Error(Errc::unknown_channel, Stage::admin,
                        "no partition " + std::to_string(partition) + " in '" + topic + "'"));
}

std::vector<Record> consume(Consumer& consumer, std::size_t count,
                            std::chrono::milliseconds timeout) {
  std::vector<Record> records;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (records.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (auto record = consumer.poll(std::chrono::milliseconds(200)))
      records.push_back(std::move(*record));
  }
  return records;
}

BrokerTest::BrokerTest() : broker_(std::make_unique<EmbeddedBroker>()) {}

BrokerTest::BrokerTest(EmbeddedBrokerOptions options)
    : broker_(std::make_unique<EmbeddedBroker>(std::move(options))) {}

BrokerTest::~BrokerTest() = default;

void BrokerTest::create_topic(const std::string& name, int partitions, int replication_factor) {
  broker_->create_topic({name, partitions, replication_factor});
}

ProducerOptions BrokerTest::producer_options() const {
  ProducerOptions options;
  options.brokers = brokers();
  options.client_id = "test-producer";
  options.delivery_timeout = std::chrono::seconds(20);
  options.connect_timeout = std::chrono::seconds(10);
  options.linger = std::chrono::milliseconds(1);
  return options;
}

ConsumerOptions BrokerTest::consumer_options(std::string group,
                                             std::vector<std::string> channels) const {
  ConsumerOptions options;
  options.brokers = brokers();
  options.group_id = std::move(group);
  options.client_id = "test-consumer";
  options.channels = std::move(channels);
  options.connect_timeout = std::chrono::seconds(10);
  options.signals = SignalHandling::ignore;
  // Faster group membership changes than Kafka's defaults, for tests.
  options.session_timeout = std::chrono::seconds(6);
  options.properties["heartbeat.interval.ms"] = "500";
  return options;
}

}  // namespace corps::testing
