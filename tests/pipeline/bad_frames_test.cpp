// Bad frames reach a real predict service: each becomes a typed dead letter,
// the service keeps running, and the good frames around them are predicted.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "channels.hpp"
#include "child_process.hpp"
#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "frame_codec.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

class BadFrames : public corps::testing::BrokerTest {
 protected:
  BadFrames() {
    registry_ = corps::pipeline::pipeline_registry();
    for (const char* topic : {"VideoStream", "Predictions", "DeadLetters", "PipelineStatus"})
      create_topic(topic);
  }
};

TEST_F(BadFrames, AreDeadLetteredWithATypedErrorAndTheGoodOnesArePredicted) {
  corps::pipeline::ChildProcess predict(
      "predict", CORPS_PIPELINE_BIN "/predict",
      {"--brokers", brokers(), "--instance", "predict-test", "--detector", "people"});
  corps::Producer producer(registry_, producer_options());
  const cv::Mat frame(120, 160, CV_8UC3, cv::Scalar(90, 90, 90));
  auto send = [&](corps::proto::Image image) {
    ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  };

  send(corps::pipeline::encode_frame(frame, corps::pipeline::FrameEncoding::raw_bgr8, 0, "cam"));
  auto short_raw =
      corps::pipeline::encode_frame(frame, corps::pipeline::FrameEncoding::raw_bgr8, 1, "cam");
  short_raw.mutable_image_data()->resize(100);
  send(short_raw);
  auto broken_jpeg =
      corps::pipeline::encode_frame(frame, corps::pipeline::FrameEncoding::jpeg, 2, "cam");
  broken_jpeg.set_image_data("not a jpeg");
  send(broken_jpeg);
  corps::proto::Image empty;
  empty.set_frame(3);
  send(empty);
  send(corps::pipeline::encode_frame(frame, corps::pipeline::FrameEncoding::jpeg, 4, "cam"));

  corps::Consumer predictions(registry_, consumer_options("check-predictions", {"Predictions"}));
  const auto predicted = consume(predictions, 2, 60s);
  ASSERT_EQ(predicted.size(), 2u);
  EXPECT_EQ(predicted[0].as<corps::proto::Prediction>().frame(), 0);
  EXPECT_EQ(predicted[1].as<corps::proto::Prediction>().frame(), 4);

  corps::Consumer dead(registry_, consumer_options("check-dead", {"DeadLetters"}));
  const auto letters = consume(dead, 3, 30s);
  ASSERT_EQ(letters.size(), 3u);
  const std::vector<std::int64_t> offsets{1, 2, 3};
  for (std::size_t i = 0; i < letters.size(); ++i) {
    const auto& letter = letters[i].as<corps::proto::DeadLetter>();
    EXPECT_EQ(letter.topic(), "VideoStream");
    EXPECT_EQ(letter.offset(), offsets[i]);
    EXPECT_EQ(letter.stage(), "handler");
    EXPECT_EQ(letter.service(), "predict-test");
    EXPECT_FALSE(letter.value().empty()) << "the raw record travels with its dead letter";
  }
  EXPECT_EQ(letters[0].as<corps::proto::DeadLetter>().code(), "corrupt_data");
  EXPECT_NE(letters[0].as<corps::proto::DeadLetter>().error().find(
                "100 bytes of BGR8 pixels for 160x120"),
            std::string::npos);
  EXPECT_EQ(letters[1].as<corps::proto::DeadLetter>().code(), "corrupt_data");
  EXPECT_EQ(letters[2].as<corps::proto::DeadLetter>().code(), "invalid_argument");
  EXPECT_FALSE(predict.exit_code().has_value()) << "predict must survive bad frames";
  EXPECT_EQ(predict.stop(10s), 0);
}

// A letter the broker will never take (not authorized) cannot be retried
// into existence: the worker stops, as Consumer::run does, and the frame
// stays uncommitted for the next run, rather than fetching it again forever.
// Drives the embedded broker's faults: there alone.
class MockBadFrames : public BadFrames {};

TEST_F(MockBadFrames, AWorkerWhoseLettersAreRefusedStopsWithTheFrameUncommitted) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image empty;  // not a frame: its letter is due at once
  empty.set_frame(0);
  ASSERT_TRUE(producer.send("VideoStream", empty).get().ok());
  // Every Produce request refused for a while: the worker's status reports
  // and its letter alike.
  broker().push_request_errors(
      corps::KafkaApi::produce,
      std::vector<corps::KafkaError>(200, corps::KafkaError::topic_authorization_failed));
  corps::pipeline::ChildProcess predict(
      "predict", CORPS_PIPELINE_BIN "/predict",
      {"--brokers", brokers(), "--instance", "predict-refused", "--detector", "people"});
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!predict.exit_code() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(predict.exit_code().has_value()) << "predict kept fetching a letter it cannot write";
  EXPECT_NE(*predict.exit_code(), 0);
  EXPECT_EQ(corps::testing::committed_offset(brokers(), "predict", "VideoStream", 0), -1)
      << "the frame was neither handled nor dead-lettered";
}

}  // namespace
