// What a consumer asks of librdkafka where corps picks a default by the
// broker it talks to: the embedded broker answers differently from Kafka.
// One test starts an embedded broker (in this process, no client talks to
// it): only so that it is recognised as one.
#include <gtest/gtest.h>

#include <cstdlib>

#include "corps/broker.hpp"
#include "corps/config.hpp"
#include "corps/consumer.hpp"
#include "detail/kafka_consumer.hpp"

namespace {

using namespace std::chrono_literals;

corps::ConsumerOptions options_for(std::string brokers) {
  corps::ConsumerOptions options;
  options.brokers = std::move(brokers);
  options.channels = {"Orders"};
  return options;
}

TEST(ConsumerProperties, AKafkaClusterKeepsKafkasFetchWaitAndSessionTimeout) {
  const auto props = corps::detail::consumer_properties(options_for("kafka-1:9092"));
  EXPECT_EQ(props.at("fetch.wait.max.ms"), "500");
  EXPECT_EQ(props.at("session.timeout.ms"), "45000");
}

// The embedded broker holds a fetch that finds nothing for all of
// fetch.wait.max.ms, even when records arrive meanwhile: at Kafka's 500 ms,
// a record sent to an idle partition waited 250 ms on average to be read.
TEST(ConsumerProperties, TheEmbeddedBrokerGetsAShortFetchWaitAndSession) {
  corps::EmbeddedBroker broker;
  const auto props = corps::detail::consumer_properties(options_for(broker.bootstrap_servers()));
  EXPECT_EQ(props.at("fetch.wait.max.ms"), "10");
  EXPECT_EQ(props.at("session.timeout.ms"), "6000");
}

// A program started by one that runs the broker (the pipeline's services)
// is told so in the environment.
TEST(ConsumerProperties, ABrokerTheParentProcessRunsCountsAsEmbedded) {
  ASSERT_EQ(::setenv(corps::embedded_broker_variable, "127.0.0.1:39092", 1), 0);
  const auto named = corps::detail::consumer_properties(options_for("127.0.0.1:39092"));
  const auto other = corps::detail::consumer_properties(options_for("127.0.0.1:39093"));
  ::unsetenv(corps::embedded_broker_variable);
  EXPECT_EQ(named.at("fetch.wait.max.ms"), "10");
  EXPECT_EQ(other.at("fetch.wait.max.ms"), "500");
}

TEST(ConsumerProperties, AFetchWaitGivenIsKeptAndANegativeOneRefused) {
  auto options = options_for("kafka-1:9092");
  options.fetch_wait = 50ms;
  EXPECT_EQ(corps::detail::consumer_properties(options).at("fetch.wait.max.ms"), "50");
  options.fetch_wait = -1ms;
  try {
    corps::Consumer consumer(corps::ChannelRegistry{}, options);
    FAIL() << "a negative fetch_wait was accepted";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("fetch_wait"), std::string::npos) << e.what();
  }
}

}  // namespace
