#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/testing/broker_test.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

// Sends corps's log to a string for the length of a test.
class CapturedLog {
 public:
  CapturedLog() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_level(spdlog::level::debug);
    corps::set_logger(logger);
  }
  ~CapturedLog() { corps::set_logger(nullptr); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
};

class Logging : public corps::testing::BrokerTest {};

TEST_F(Logging, LibrdkafkaLinesGoToTheCorpsLogger) {
  CapturedLog log;
  registry_.bind<corps::proto::Image>("VideoStream");
  auto options = producer_options();
  options.brokers = "127.0.0.1:1";
  options.connect_timeout = 1s;
  EXPECT_THROW(corps::Producer(registry_, options), corps::Exception);
  const auto text = log.text();
  EXPECT_NE(text.find("librdkafka"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1:1"), std::string::npos) << text;
}

TEST_F(Logging, RebalancesAreLogged) {
  CapturedLog log;
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 2);
  {
    corps::Consumer consumer(registry_, consumer_options("logged", {"VideoStream"}));
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (consumer.assignment().empty() && std::chrono::steady_clock::now() < deadline) {
      (void)consumer.poll(100ms);
    }
  }
  const auto text = log.text();
  EXPECT_NE(text.find("of group 'logged' assigned: VideoStream[0], VideoStream[1]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("of group 'logged' revoked: VideoStream[0], VideoStream[1]"),
            std::string::npos)
      << text;
}

TEST_F(Logging, TheLibraryNeverWritesToStdout) {
  registry_.bind<corps::proto::Image>("VideoStream");
  create_topic("VideoStream", 1);
  ::testing::internal::CaptureStdout();
  {
    corps::Producer producer(registry_, producer_options());
    corps::proto::Image image;
    EXPECT_TRUE(producer.send("VideoStream", image).get().ok());
    corps::Consumer consumer(registry_, consumer_options("quiet", {"VideoStream"}));
    EXPECT_EQ(consume(consumer, 1).size(), 1u);
  }
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "");
}

}  // namespace
