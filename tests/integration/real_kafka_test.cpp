// What only a real Apache Kafka can show: its admin API, its size limits,
// its compacted _schemas. Suites named RealKafka* run with the kafka label
// alone (the embedded broker has none of these).
#include <gtest/gtest.h>

#include <random>

#include "corps/admin.hpp"
#include "corps/corps.hpp"
#include "corps/dead_letter.pb.h"
#include "corps/embedded_schema_registry.hpp"
#include "corps/image.pb.h"
#include "corps/schema_registry.hpp"
#include "corps/testing/broker_test.hpp"

namespace {

using namespace std::chrono_literals;

class RealKafka : public corps::testing::BrokerTest {
 protected:
  RealKafka() {
    if (!on_real_kafka()) throw std::logic_error("RealKafka tests run on a real Kafka alone");
  }
  corps::Admin admin() const { return corps::Admin({.brokers = brokers(), .timeout = 30s}); }
};

std::string incompressible(std::size_t size) {
  std::mt19937 random(7);
  std::string noise(size, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  return noise;
}

TEST_F(RealKafka, TopicsAreCreatedDescribedGrownReconfiguredAndDeleted) {
  auto kafka = admin();
  kafka.create_topic({"Orders", 2, 1}, {{"retention.ms", "3600000"}});
  const auto described = kafka.describe_topic("Orders");
  ASSERT_EQ(described.partitions.size(), 2U);
  for (const auto& partition : described.partitions) {
    EXPECT_GE(partition.leader, 1);
    EXPECT_EQ(partition.replicas.size(), 1U);
    EXPECT_EQ(partition.in_sync_replicas, partition.replicas);
  }
  EXPECT_EQ(kafka.topic_configs("Orders").at("retention.ms"), "3600000");

  try {
    kafka.create_topic({"Orders", 2, 1});
    FAIL() << "a second create of one name succeeded";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().kafka_error(), corps::KafkaError::topic_already_exists);
    EXPECT_NE(std::string(e.what()).find("'Orders'"), std::string::npos) << e.what();
  }

  kafka.add_partitions("Orders", 4);
  EXPECT_EQ(kafka.describe_topic("Orders").partitions.size(), 4U);
  try {
    kafka.add_partitions("Orders", 3);
    FAIL() << "a topic shrank";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().kafka_error(), corps::KafkaError::invalid_partitions) << e.what();
  }

  kafka.alter_topic_configs("Orders", {{"retention.ms", "7200000"}});
  EXPECT_EQ(kafka.topic_configs("Orders").at("retention.ms"), "7200000");

  kafka.delete_topic("Orders");
  try {
    (void)kafka.describe_topic("Orders");
    FAIL() << "a deleted topic is still described";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::unknown_channel);
  }
  try {
    kafka.delete_topic("Orders");
    FAIL() << "a topic was deleted twice";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::unknown_channel) << e.what();
  }
}

TEST_F(RealKafka, GroupsAreListedAndAnEmptyOneDeletedWithItsOffsets) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  {
    corps::Consumer consumer(registry_, consumer_options("viewers", {"VideoStream"}));
    ASSERT_EQ(corps::testing::consume(consumer, 1).size(), 1U);
    ASSERT_TRUE(consumer.commit().ok());
    auto kafka = admin();
    const auto groups = kafka.list_groups();
    EXPECT_NE(std::find(groups.begin(), groups.end(), "viewers"), groups.end());
    try {
      kafka.delete_group("viewers");
      FAIL() << "a group with a member was deleted";
    } catch (const corps::Exception& e) {
      EXPECT_EQ(e.error().kafka_error(), corps::KafkaError::non_empty_group) << e.what();
    }
    ASSERT_TRUE(consumer.close().ok());
  }
  EXPECT_EQ(corps::testing::committed_offset(brokers(), "viewers", "VideoStream", 0), 1);
  auto kafka = admin();
  kafka.delete_group("viewers");
  EXPECT_EQ(corps::testing::committed_offset(brokers(), "viewers", "VideoStream", 0), -1)
      << "the group's offsets went with it";
  try {
    kafka.delete_group("viewers");
    FAIL() << "a group was deleted twice";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::unknown_channel) << e.what();
  }
}

TEST_F(RealKafka, DeletedRecordsMoveThePartitionsStart) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  corps::Producer producer(registry_, producer_options());
  for (int frame = 0; frame < 5; ++frame) {
    corps::proto::Image image;
    image.set_frame(frame);
    ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  }
  EXPECT_EQ(admin().delete_records("VideoStream", 0, 3), 3);
  const auto lag = admin().group_lag("nobody", {"VideoStream"});
  ASSERT_EQ(lag.size(), 1U);
  EXPECT_EQ(lag[0].start, 3);
  EXPECT_EQ(lag[0].end, 5);
}

// Kafka refuses a record above the topic's max.message.bytes when the
// producer's own limit lets it through: a typed report naming the setting,
// and the next record still goes.
TEST_F(RealKafka, ARecordOverTheTopicsLimitIsATypedReportAndTheNextIsDelivered) {
  registry_.bind<corps::proto::Image>("VideoStream");
  admin().create_topic({"VideoStream", 1, 1}, {{"max.message.bytes", "20000"}});
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image big;
  big.set_image_data(incompressible(100'000));
  const auto refused = producer.send("VideoStream", big).get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), corps::Errc::too_large);
  EXPECT_EQ(refused.error().stage(), corps::Stage::delivery);
  EXPECT_EQ(refused.error().kafka_error(), corps::KafkaError::message_too_large);
  EXPECT_EQ(refused.persistence(), corps::Persistence::not_persisted);
  EXPECT_NE(refused.error().message().find("max.message.bytes"), std::string::npos)
      << refused.error().to_string();
  corps::proto::Image small;
  EXPECT_TRUE(producer.send("VideoStream", small).get().ok());
}

// The dead-letter channel refuses a letter as too large: the letter is
// written again without the record's bytes, and the group goes on.
TEST_F(RealKafka, ALetterTheDeadLetterChannelRefusesAsTooLargeIsWrittenTruncated) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  admin().create_topic({"DeadLetters", 1, 1}, {{"max.message.bytes", "20000"}});
  corps::MessageHandler handler(registry_);
  corps::proto::Image good;
  good.set_frame(1);
  const std::string bad = incompressible(60'000);
  corps::testing::produce_raw(
      brokers(), "VideoStream",
      {{bad}, {std::string(handler.encode("VideoStream", good)->value.view())}});
  auto options = consumer_options("refused-size", {"VideoStream"});
  options.dead_letters.emplace();
  options.dead_letters->service = "real-kafka-test";
  {
    corps::Consumer consumer(registry_, options);
    std::vector<int> handled;
    const auto status = consumer.run([&](const corps::Record& record) {
      handled.push_back(record.as<corps::proto::Image>().frame());
      consumer.stop();
    });
    ASSERT_TRUE(status.ok()) << status.error().to_string();
    EXPECT_EQ(handled, (std::vector<int>{1}));
    ASSERT_TRUE(consumer.commit().ok());
  }
  EXPECT_EQ(corps::testing::committed_offset(brokers(), "refused-size", "VideoStream", 0), 2);
  corps::ChannelRegistry letters;
  letters.bind<corps::proto::DeadLetter>("DeadLetters");
  corps::Consumer reader(letters, consumer_options("", {"DeadLetters"}));
  const auto written = corps::testing::consume(reader, 1, 20s);
  ASSERT_EQ(written.size(), 1U);
  ASSERT_TRUE(written[0].ok()) << written[0].error().to_string();
  const auto& letter = written[0].as<corps::proto::DeadLetter>();
  EXPECT_TRUE(letter.truncated());
  EXPECT_TRUE(letter.value().empty());
  EXPECT_EQ(letter.value_size(), 60'000);
}

// The embedded registry keeps its state in a compacted _schemas that it
// makes itself, on every broker there is (up to 3), as Confluent's does.
TEST_F(RealKafka, TheRegistryMakesItsSchemasTopicCompacted) {
  {
    corps::EmbeddedSchemaRegistry registry({.brokers = brokers(), .timeout = 20s});
    corps::SchemaRegistryClient client({.url = registry.url()});
    (void)client.register_file("Images-value", *corps::proto::Image::descriptor()->file());
  }
  auto kafka = admin();
  EXPECT_EQ(kafka.topic_configs("_schemas").at("cleanup.policy"), "compact");
  EXPECT_EQ(kafka.describe_topic("_schemas").partitions.size(), 1U);
}

}  // namespace
