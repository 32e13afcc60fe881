#include "corps/testing/broker_test.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <thread>

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

TestTarget test_target() {
  const char* target = std::getenv("CORPS_TEST_TARGET");
  if (target == nullptr || *target == '\0' || std::string_view(target) == "embedded") {
    return TestTarget::embedded_broker;
  }
  if (std::string_view(target) == "kafka") return TestTarget::kafka;
  throw Exception(Error(Errc::invalid_argument, Stage::config,
                        "CORPS_TEST_TARGET is '" + std::string(target) +
                            "'; expected 'kafka' or 'embedded'"));
}

std::string kafka_test_brokers() {
  const char* brokers = std::getenv("CORPS_TEST_BROKERS");
  return brokers != nullptr && *brokers != '\0' ? brokers : "127.0.0.1:29092";
}

void clear_cluster(const std::string& brokers) {
  using namespace std::chrono_literals;
  Admin admin({.brokers = brokers, .timeout = 30s});
  std::set<std::string> deleted;
  for (const auto& topic : admin.list_topics()) {
    if (topic.name.rfind("__", 0) == 0) continue;  // Kafka's own
    try {
      admin.delete_topic(topic.name);
      deleted.insert(topic.name);
    } catch (const Exception& e) {
      if (e.error().code() != Errc::unknown_channel) throw;
    }
  }
  for (const auto& group : admin.list_groups()) {
    try {
      admin.delete_group(group);
    } catch (const Exception& e) {
      // Members not yet expired keep it; a group gone meanwhile is gone.
      const auto code = e.error().kafka_error();
      if (code != KafkaError::non_empty_group && code != KafkaError::group_id_not_found) throw;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const auto topics = admin.list_topics();
    const bool gone = std::none_of(topics.begin(), topics.end(),
                                   [&](const TopicInfo& topic) { return deleted.contains(topic.name); });
    if (gone) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw Exception(Error(Errc::timed_out, Stage::admin,
                            "deleted topics still listed on " + brokers + " after 30 s"));
    }
    std::this_thread::sleep_for(50ms);
  }
}

BrokerTest::BrokerTest() : BrokerTest(EmbeddedBrokerOptions{}) {}

BrokerTest::BrokerTest(EmbeddedBrokerOptions options) {
  if (test_target() == TestTarget::embedded_broker) {
    broker_ = std::make_unique<EmbeddedBroker>(std::move(options));
    brokers_ = broker_->bootstrap_servers();
    return;
  }
  if (options.broker_count > 1) {
    throw std::logic_error("this test asks for an embedded cluster of " +
                           std::to_string(options.broker_count) +
                           " brokers: it belongs to a Mock* suite, on the embedded broker alone");
  }
  brokers_ = kafka_test_brokers();
  clear_cluster(brokers_);
  for (const auto& topic : options.topics)
    create_topic(topic.name, topic.partitions, topic.replication_factor);
}

BrokerTest::~BrokerTest() = default;

EmbeddedBroker& BrokerTest::broker() {
  if (broker_ == nullptr) {
    throw std::logic_error(
        "this test drives the embedded broker (fault injection), and runs on a real Kafka "
        "cluster: it belongs to a Mock* suite, on the embedded broker alone");
  }
  return *broker_;
}

void BrokerTest::create_topic(const std::string& name, int partitions, int replication_factor) {
  if (broker_ != nullptr) {
    broker_->create_topic({name, partitions, replication_factor});
    return;
  }
  using namespace std::chrono_literals;
  Admin admin({.brokers = brokers_, .timeout = 30s});
  admin.create_topic({name, partitions, replication_factor});
  // CreateTopics answers once the controller has the topic; its leaders
  // take a moment more to be known.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    try {
      const auto topic = admin.describe_topic(name);
      const bool led = static_cast<int>(topic.partitions.size()) == partitions &&
                       std::all_of(topic.partitions.begin(), topic.partitions.end(),
                                   [](const PartitionInfo& p) { return p.leader >= 0; });
      if (led) return;
    } catch (const Exception& e) {
      if (e.error().code() != Errc::unknown_channel) throw;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw Exception(Error(Errc::timed_out, Stage::admin,
                            "topic '" + name + "' has no leader for every partition after 30 s"));
    }
    std::this_thread::sleep_for(20ms);
  }
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
