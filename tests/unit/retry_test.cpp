// RetryPolicy: the waits between a failing handler's attempts.
#include "corps/retry.hpp"

#include <gtest/gtest.h>

#include <climits>

namespace {

using std::chrono::milliseconds;

TEST(RetryPolicy, TheFirstRetryWaitsTheInitialBackoffAndEachNextOneMultipliesIt) {
  const corps::RetryPolicy policy{.max_attempts = 5,
                                  .initial_backoff = milliseconds(100),
                                  .multiplier = 2.0,
                                  .max_backoff = milliseconds(10'000)};
  EXPECT_EQ(policy.backoff_before(2), milliseconds(100));
  EXPECT_EQ(policy.backoff_before(3), milliseconds(200));
  EXPECT_EQ(policy.backoff_before(4), milliseconds(400));
  EXPECT_EQ(policy.backoff_before(5), milliseconds(800));
}

TEST(RetryPolicy, NoWaitGrowsPastTheMaximum) {
  const corps::RetryPolicy policy{.initial_backoff = milliseconds(100),
                                  .multiplier = 3.0,
                                  .max_backoff = milliseconds(1'000)};
  EXPECT_EQ(policy.backoff_before(4), milliseconds(900));
  EXPECT_EQ(policy.backoff_before(5), milliseconds(1'000));
  EXPECT_EQ(policy.backoff_before(1'000), milliseconds(1'000));
  EXPECT_EQ(policy.backoff_before(INT_MAX), milliseconds(1'000)) << "and never overflows";
}

TEST(RetryPolicy, AnInitialBackoffAboveTheMaximumIsCapped) {
  const corps::RetryPolicy policy{.initial_backoff = milliseconds(9'000),
                                  .max_backoff = milliseconds(5'000)};
  EXPECT_EQ(policy.backoff_before(2), milliseconds(5'000));
}

TEST(RetryPolicy, AMultiplierOfOneWaitsTheSameEachTime) {
  const corps::RetryPolicy policy{.initial_backoff = milliseconds(250), .multiplier = 1.0};
  for (int attempt = 2; attempt < 50; ++attempt) {
    EXPECT_EQ(policy.backoff_before(attempt), milliseconds(250)) << attempt;
  }
}

TEST(RetryPolicy, TheDefaultsRetryTwiceWithinSeconds) {
  const corps::RetryPolicy policy;
  EXPECT_EQ(policy.max_attempts, 3);
  EXPECT_EQ(policy.backoff_before(2) + policy.backoff_before(3), milliseconds(300));
}

}  // namespace
