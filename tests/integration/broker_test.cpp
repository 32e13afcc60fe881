#include "corps/testing/broker_test.hpp"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corps/corps.hpp"
#include "corps/image.pb.h"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

// The partition count of `topic` as a plain librdkafka client sees it.
int partitions_seen_by_librdkafka(const std::string& brokers, const std::string& topic) {
  char errstr[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof errstr);
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> client(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr), rd_kafka_destroy);
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
      rd_kafka_topic_new(client.get(), topic.c_str(), nullptr), rd_kafka_topic_destroy);
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(client.get(), 0, handle.get(), &metadata, 5000) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  const int count = metadata->topic_cnt == 1 ? metadata->topics[0].partition_cnt : -1;
  rd_kafka_metadata_destroy(metadata);
  return count;
}

// What a shell command prints.
std::string run(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen(command.c_str(), "r"), pclose);
  char buffer[4096];
  while (pipe && fgets(buffer, sizeof buffer, pipe.get()) != nullptr) out += buffer;
  return out;
}

class BrokerBasics : public corps::testing::BrokerTest {};
// What only the embedded broker does: fault injection, several brokers.
class MockBroker : public corps::testing::BrokerTest {};

TEST_F(BrokerBasics, ListensOnLoopbackAndCreatesTopicsWithTheirPartitions) {
  EXPECT_EQ(brokers().rfind("127.0.0.1:", 0), 0u) << brokers();
  create_topic("PageViews", 3);
  EXPECT_EQ(partitions_seen_by_librdkafka(brokers(), "PageViews"), 3);
}

TEST_F(MockBroker, RefusesAReplicationFactorAboveItsBrokerCount) {
  try {
    broker().create_topic({"Replicated", 1, 3});
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::admin);
    EXPECT_NE(std::string(e.what()).find("'Replicated'"), std::string::npos);
  }
}

// `corps topics create` reaches the embedded broker over HTTP: what a
// request asks for is bounded and named before the mock cluster sees it.
TEST_F(MockBroker, RefusesANameKafkaRefusesTooManyPartitionsAndATopicThatExists) {
  const auto refusal = [&](const corps::TopicSpec& topic) -> std::optional<corps::Error> {
    try {
      broker().create_topic(topic);
    } catch (const corps::Exception& e) {
      return e.error();
    }
    return std::nullopt;
  };
  for (const std::string& name :
       std::vector<std::string>{"", "a/b", "with space", std::string(250, 'x')}) {
    const auto error = refusal({name, 1, 1});
    ASSERT_TRUE(error) << name;
    EXPECT_EQ(error->kafka_error(), corps::KafkaError::invalid_topic) << name;
  }
  EXPECT_TRUE(corps::valid_topic_name(std::string(249, 'x')));
  EXPECT_TRUE(corps::valid_topic_name("Orders.v2_eu-west"));
  const auto huge = refusal({"Huge", 10'001, 1});
  ASSERT_TRUE(huge);
  EXPECT_NE(huge->message().find("10,000"), std::string::npos) << huge->message();
  EXPECT_FALSE(refusal({"Made", 2, 1}));
  const auto again = refusal({"Made", 2, 1});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kafka_error(), corps::KafkaError::topic_already_exists);
}

// Admin::create_topic works on an embedded broker as on Kafka: the mock
// cluster answers no CreateTopics, so Admin creates the topic in the broker
// this process runs (it refused "the embedded broker answers no topic admin
// requests"). What it cannot keep, configs, is refused at once.
TEST_F(MockBroker, AdminCreatesTopicsInAnEmbeddedBrokerOfThisProcess) {
  corps::EmbeddedBroker cluster({.broker_count = 3});
  corps::Admin admin({.brokers = cluster.bootstrap_servers(), .timeout = 5s});
  admin.create_topic({.name = "Created", .partitions = 4, .replication_factor = -1});
  EXPECT_EQ(partitions_seen_by_librdkafka(cluster.bootstrap_servers(), "Created"), 4);
  const auto described = admin.describe_topic("Created");
  ASSERT_EQ(described.partitions.size(), 4u);
  EXPECT_EQ(described.partitions[0].replicas.size(), 3u) << "the default: min(brokers, 3)";

  const auto refusal = [&](const corps::TopicSpec& topic,
                           const std::map<std::string, std::string>& configs) {
    try {
      admin.create_topic(topic, configs);
    } catch (const corps::Exception& e) {
      return std::optional<corps::Error>(e.error());
    }
    return std::optional<corps::Error>();
  };
  const auto again = refusal({.name = "Created"}, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kafka_error(), corps::KafkaError::topic_already_exists);
  const auto configs = refusal({.name = "Kept"}, {{"retention.ms", "1000"}});
  ASSERT_TRUE(configs);
  EXPECT_EQ(configs->code(), corps::Errc::unsupported);
  EXPECT_NE(configs->message().find("keeps no topic configs"), std::string::npos)
      << configs->message();
}

TEST_F(MockBroker, AThreeBrokerClusterReplicatesAndMovesLeaders) {
  corps::EmbeddedBroker cluster({.broker_count = 3, .topics = {{"Replicated", 2, 3}}});
  EXPECT_EQ(cluster.broker_count(), 3);
  EXPECT_EQ(partitions_seen_by_librdkafka(cluster.bootstrap_servers(), "Replicated"), 2);
  EXPECT_NO_THROW(cluster.set_partition_leader("Replicated", 0, 2));
}

TEST_F(BrokerBasics, KcatListsItsTopics) {
  create_topic("VideoStream", 2);
  const auto listing = run("kcat -b " + brokers() + " -L -t VideoStream 2>&1");
  EXPECT_NE(listing.find("topic \"VideoStream\" with 2 partitions"), std::string::npos) << listing;
}

TEST_F(MockBroker, RecordsSentWhileTheBrokerIsDownAreDeliveredWhenItReturns) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  corps::Producer producer(registry_, producer_options());
  broker().set_broker_down(1);
  std::vector<std::future<corps::DeliveryReport>> reports;
  for (int n = 0; n < 10; ++n) {
    corps::proto::Image image;
    image.set_frame(n);
    reports.push_back(producer.send("VideoStream", image));
  }
  // A second of the broker being down: nothing may be acknowledged in it.
  std::this_thread::sleep_for(1s);
  for (auto& report : reports) {
    ASSERT_EQ(report.wait_for(0s), std::future_status::timeout)
        << "a record was acknowledged while the broker was down";
  }
  EXPECT_EQ(producer.in_flight(), 10U);
  broker().set_broker_up(1);
  for (auto& report : reports) {
    const auto delivered = report.get();
    EXPECT_TRUE(delivered.ok()) << delivered.error().to_string();
  }
  corps::Consumer consumer(registry_, consumer_options("after-outage", {"VideoStream"}));
  const auto records = consume(consumer, 10);
  ASSERT_EQ(records.size(), 10u);
  for (int n = 0; n < 10; ++n) EXPECT_EQ(records[n].as<corps::proto::Image>().frame(), n);
}

TEST_F(MockBroker, AConsumerReconnectsAfterTheBrokerComesBack) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  corps::Producer producer(registry_, producer_options());
  corps::Consumer consumer(registry_, consumer_options("reconnect", {"VideoStream"}));
  corps::proto::Image image;
  ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  ASSERT_EQ(consume(consumer, 1).size(), 1u);
  broker().set_broker_down(1);
  EXPECT_FALSE(consumer.poll(2s).has_value());
  broker().set_broker_up(1);
  image.set_frame(2);
  ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  // Frame 0's commit may have failed while the broker was away: then it
  // comes again first (at-least-once), and frame 2 after it.
  std::vector<std::int64_t> frames;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((frames.empty() || frames.back() != 2) && std::chrono::steady_clock::now() < deadline) {
    if (auto record = consumer.poll(200ms))
      frames.push_back(record->as<corps::proto::Image>().frame());
  }
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.back(), 2);
  EXPECT_LE(frames.size(), 2u);
}

TEST_F(MockBroker, ClosingAConsumerWhoseBrokerIsGoneEndsWithinTheCloseTimeout) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  auto options = consumer_options("abandoned", {"VideoStream"});
  options.close_timeout = 2s;
  auto consumer = std::make_unique<corps::Consumer>(registry_, options);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (consumer->assignment().empty() && std::chrono::steady_clock::now() < deadline) {
    (void)consumer->poll(100ms);
  }
  ASSERT_FALSE(consumer->assignment().empty());
  broker().set_broker_down(1);
  const auto started = std::chrono::steady_clock::now();
  consumer.reset();
  // Commit and leave each get the close timeout; nothing waits beyond.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 8s);
}

}  // namespace
