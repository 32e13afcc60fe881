#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "corps/corps.hpp"
#include "corps/testing/broker_test.hpp"
#include "support/numbered_predictions.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

class Shutdown : public corps_tests::NumberedPredictions {
 protected:
  ~Shutdown() override { corps::reset_shutdown(); }
};

TEST_F(Shutdown, SigtermEndsIterationAndKeepsHandledWork) {
  auto options = consumer_options("signals", {"Predictions"});
  options.signals = corps::SignalHandling::stop;
  options.auto_commit_interval = 60s;  // nothing committed in the background
  {
    corps::Consumer consumer(registry_, options);
    int handled = 0;
    for (auto& record : consumer) {
      ASSERT_TRUE(record.ok());
      if (++handled == 3) std::raise(SIGTERM);  // arrives while record 3 is handled
    }
    EXPECT_EQ(handled, 3);
    EXPECT_TRUE(consumer.stopped());
  }
  corps::reset_shutdown();
  corps::Consumer restarted(registry_, consumer_options("signals", {"Predictions"}));
  const auto records = consume(restarted, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].as<corps::proto::Prediction>().frame(), 3);
}

TEST_F(Shutdown, StopFromAnotherThreadEndsIteration) {
  corps::Consumer consumer(registry_, consumer_options("stopper", {"Predictions"}));
  std::thread stopper([&] {
    std::this_thread::sleep_for(6s);
    consumer.stop();
  });
  int seen = 0;
  for (auto& record : consumer) seen += record.ok();
  stopper.join();
  EXPECT_EQ(seen, 10);
}

}  // namespace
