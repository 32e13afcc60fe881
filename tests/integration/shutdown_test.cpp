#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/hang_guard.hpp"
#include "support/numbered_predictions.hpp"
#include "support/wait.hpp"

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

// Iteration waits for records that never come until another thread stops
// it: once all ten were seen, the stop is what ends the loop.
TEST_F(Shutdown, StopFromAnotherThreadEndsIteration) {
  corps::Consumer consumer(registry_, consumer_options("stopper", {"Predictions"}));
  corps_tests::HangGuard guard(60s, "iteration stopped from another thread");
  std::atomic<int> seen{0};
  std::thread stopper([&] {
    (void)corps_tests::wait_until([&] { return seen.load() == 10; }, 30s,
                                  "the ten records to be seen");
    consumer.stop();
  });
  for (auto& record : consumer) seen += record.ok() ? 1 : 0;
  stopper.join();
  EXPECT_EQ(seen.load(), 10);
  EXPECT_TRUE(consumer.stopped());
}

}  // namespace
