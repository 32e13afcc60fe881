#include <gtest/gtest.h>

#include <random>

#include "corps/corps.hpp"
#include "corps/testing/broker_test.hpp"
#include "support/expect.hpp"

namespace {

using namespace std::chrono_literals;

using corps_tests::error_of;

class ProducerTest : public corps::testing::BrokerTest {
 protected:
  ProducerTest() {
    registry_.bind<corps::proto::Image>("VideoStream");
    registry_.bind<corps::proto::Prediction>("Predictions");
    create_topic("VideoStream");
  }
};

TEST_F(ProducerTest, RefusesAnUnboundChannelAtSend) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  const auto error = error_of([&] { (void)producer.send("Frames", image); });
  EXPECT_EQ(error.code(), corps::Errc::unknown_channel);
  EXPECT_NE(error.message().find("'Frames'"), std::string::npos);
  EXPECT_EQ(producer.in_flight(), 0u);
}

TEST_F(ProducerTest, RefusesTheWrongTypeAtSendNamingChannelAndBothTypes) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Prediction prediction;
  const auto error = error_of([&] { (void)producer.send("VideoStream", prediction); });
  EXPECT_EQ(error.code(), corps::Errc::type_mismatch);
  EXPECT_NE(
      error.message().find("'VideoStream' carries corps.proto.Image, not corps.proto.Prediction"),
      std::string::npos);
}

TEST_F(ProducerTest, SendsOnItsBoundChannel) {
  auto options = producer_options();
  options.channel = "VideoStream";
  corps::Producer producer(registry_, options);
  corps::proto::Image image;
  const auto report = producer.send(image).get();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.where.topic, "VideoStream");
}

TEST_F(ProducerTest, RefusesAnUnboundDefaultChannelAtConstruction) {
  auto options = producer_options();
  options.channel = "Nowhere";
  EXPECT_EQ(error_of([&] { corps::Producer(registry_, options); }).code(),
            corps::Errc::unknown_channel);
}

TEST_F(ProducerTest, RefusesIdempotenceWithoutAcksAll) {
  auto options = producer_options();
  options.acks = corps::Acks::leader;
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("Idempotence::off"), std::string::npos);
  options.idempotence = corps::Idempotence::off;
  EXPECT_NO_THROW(corps::Producer(registry_, options));
}

TEST_F(ProducerTest, RefusesABadLibrdkafkaPropertyNamingIt) {
  auto options = producer_options();
  options.properties["linger.mss"] = "5";
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("'linger.mss'"), std::string::npos) << error.message();
}

TEST_F(ProducerTest, RefusesMissingBrokers) {
  auto options = producer_options();
  options.brokers.clear();
  EXPECT_EQ(error_of([&] { corps::Producer(registry_, options); }).stage(), corps::Stage::config);
}

TEST_F(ProducerTest, SaysSoWhenNoBrokerAnswers) {
  auto options = producer_options();
  options.brokers = "127.0.0.1:1";
  options.connect_timeout = 1500ms;
  const auto started = std::chrono::steady_clock::now();
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.code(), corps::Errc::broker_unreachable);
  EXPECT_EQ(error.stage(), corps::Stage::connect);
  EXPECT_NE(error.message().find("127.0.0.1:1"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
}

TEST_F(ProducerTest, AnOversizedRecordGetsATypedReportAndTheNextOneIsDelivered) {
  auto options = producer_options();
  options.properties["message.max.bytes"] = "20000";
  corps::Producer producer(registry_, options);
  corps::proto::Image big;
  std::mt19937 random(1);
  std::string noise(100000, '\0');
  for (auto& c : noise) c = static_cast<char>(random());  // incompressible
  big.set_image_data(noise);
  const auto refused = producer.send("VideoStream", big).get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error->code(), corps::Errc::too_large);
  EXPECT_EQ(refused.error->stage(), corps::Stage::produce);
  EXPECT_EQ(refused.persistence, corps::Persistence::not_persisted);
  corps::proto::Image small;
  EXPECT_TRUE(producer.send("VideoStream", small).get().ok());
}

TEST_F(ProducerTest, FlushRethrowsWhatADeliveryCallbackThrew) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  producer.send("VideoStream", image, {},
                [](const corps::DeliveryReport&) { throw std::runtime_error("callback failed"); });
  EXPECT_THROW((void)producer.flush(10s), std::runtime_error);
  EXPECT_TRUE(producer.flush(10s).ok()) << "the exception is re-thrown once";
}

TEST_F(ProducerTest, AcksNoneAndLeaderDeliverToo) {
  for (auto acks : {corps::Acks::none, corps::Acks::leader}) {
    auto options = producer_options();
    options.acks = acks;
    options.idempotence = corps::Idempotence::off;
    corps::Producer producer(registry_, options);
    corps::proto::Image image;
    EXPECT_TRUE(producer.send("VideoStream", image).get().ok());
  }
}

}  // namespace
