// corps::testing::DeliveryChecker judges a history as Jepsen's queue
// workload does; these cases pin each verdict, so a soak that says "holds"
// means what it says.
#include "corps/testing/delivery_checker.hpp"

#include <gtest/gtest.h>

namespace {

using corps::DeliveryReport;
using corps::Persistence;
using corps::RecordLocation;
using corps::testing::DeliveryChecker;

DeliveryReport acknowledged(std::int32_t partition, std::int64_t offset) {
  return DeliveryReport(RecordLocation{"t", partition, offset});
}

DeliveryReport failed(Persistence persistence) {
  return {RecordLocation{"t", -1, -1},
          corps::Error(corps::Errc::timed_out, corps::Stage::delivery, "no answer"), persistence};
}

TEST(DeliveryChecker, AnAcknowledgedValueNeverConsumedIsLost) {
  DeliveryChecker checker;
  checker.sent(1, acknowledged(0, 0));
  checker.sent(2, acknowledged(0, 1));
  checker.consumed(1, {"t", 0, 0});
  const auto verdict = checker.check({});
  EXPECT_EQ(verdict.lost, 1U);
  EXPECT_FALSE(verdict.holds);
}

TEST(DeliveryChecker, AFailedValueMayBeOnTheLogOrNot) {
  DeliveryChecker checker;
  checker.sent(1, failed(Persistence::possibly_persisted));
  checker.sent(2, failed(Persistence::not_persisted));
  checker.consumed(1, {"t", 0, 0});
  const auto verdict = checker.check({});
  EXPECT_TRUE(verdict.holds) << verdict.to_string();
  EXPECT_EQ(verdict.failed_but_stored, 1U);
}

TEST(DeliveryChecker, AValueNeverSentIsPhantom) {
  DeliveryChecker checker;
  checker.consumed(9, {"t", 0, 0});
  EXPECT_EQ(checker.check({}).phantom, 1U);
}

TEST(DeliveryChecker, KeysKeepTheirOwnOrderWhileSharingAPartition) {
  DeliveryChecker checker;
  // Two producers' keys interleave on partition 0: fine while each key's
  // values rise.
  const std::vector<std::pair<std::int64_t, std::string>> log{
      {200, "b"}, {100, "a"}, {201, "b"}, {101, "a"}};
  for (std::size_t offset = 0; offset < log.size(); ++offset) {
    const auto& [value, key] = log[offset];
    checker.sent(value, acknowledged(0, static_cast<std::int64_t>(offset)), key);
    checker.consumed(value, {"t", 0, static_cast<std::int64_t>(offset)});
  }
  EXPECT_TRUE(checker.check({}).holds);

  DeliveryChecker swapped;
  swapped.sent(101, acknowledged(0, 0), "a");
  swapped.sent(100, acknowledged(0, 1), "a");
  swapped.consumed(101, {"t", 0, 0});
  swapped.consumed(100, {"t", 0, 1});
  const auto verdict = swapped.check({});
  EXPECT_EQ(verdict.reordered, 1U);
  EXPECT_FALSE(verdict.holds);
}

TEST(DeliveryChecker, RedeliveryAndLogDuplicatesAreAllowedOnlyWhenSaid) {
  DeliveryChecker checker;
  checker.sent(1, acknowledged(0, 0));
  checker.consumed(1, {"t", 0, 0});
  checker.consumed(1, {"t", 0, 0});  // the same offset again
  checker.consumed(1, {"t", 0, 1});  // a retry stored twice
  EXPECT_FALSE(checker.check({.allow_duplicated = false, .allow_redelivered = true}).holds);
  EXPECT_FALSE(checker.check({.allow_duplicated = true, .allow_redelivered = false}).holds);
  const auto verdict = checker.check({.allow_duplicated = true, .allow_redelivered = true});
  EXPECT_TRUE(verdict.holds);
  EXPECT_EQ(verdict.redelivered, 1U);
  EXPECT_EQ(verdict.duplicated, 1U);
}

// The at-least-once bound: a member read 0..4, saw a commit at 3, and died;
// the next read from 3 again. Two redeliveries, and the dead member had read
// two records past the commit it saw.
TEST(DeliveryChecker, RedeliveriesOfRecordsPastTheLastCommitAreWithinTheBound) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 5; ++v) checker.sent(v, acknowledged(0, v));
  for (std::int64_t v = 0; v < 5; ++v) checker.consumed(v, {"t", 0, v}, "a", 10 + v);
  checker.committed("t", 0, 3, "a", 14);
  for (std::int64_t v = 3; v < 5; ++v) checker.consumed(v, {"t", 0, v}, "b", 30 + v);
  checker.committed("t", 0, 5, "b", 40);
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered, 2U);
  EXPECT_EQ(verdict.redelivery_bound, 2U) << verdict.to_string();
  EXPECT_EQ(verdict.redelivered_past_commit, 0U);
  EXPECT_TRUE(verdict.holds) << verdict.to_string();
}

TEST(DeliveryChecker, ARecordReadAgainAfterACommitPastItWasSeenIsAViolation) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 5; ++v) checker.sent(v, acknowledged(0, v));
  for (std::int64_t v = 0; v < 5; ++v) checker.consumed(v, {"t", 0, v}, "a", 10 + v);
  checker.committed("t", 0, 5, "a", 20);
  checker.consumed(1, {"t", 0, 1}, "b", 30);  // from before the commit at 5
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered_past_commit, 1U);
  EXPECT_FALSE(verdict.holds) << verdict.to_string();
  EXPECT_TRUE(checker.check({}).holds) << "unbounded, at-least-once allows it";
}

// A reader that saw no commit at all left every record it read uncommitted.
TEST(DeliveryChecker, AReaderThatSawNoCommitLeavesAllItReadToTheBound) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 4; ++v) checker.sent(v, acknowledged(0, v));
  for (std::int64_t v = 0; v < 4; ++v) checker.consumed(v, {"t", 0, v}, "a", 10 + v);
  for (std::int64_t v = 0; v < 4; ++v) checker.consumed(v, {"t", 0, v}, "b", 20 + v);
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered, 4U);
  EXPECT_EQ(verdict.redelivery_bound, 4U);
  EXPECT_TRUE(verdict.holds) << verdict.to_string();
}

// a read 0..3, stalled (paused), and b read them again while a was away;
// then b committed past them, and a, back, saw that commit (the soak's
// members journal the group's commits they see). What a left uncommitted is
// all it read: the commit it saw after b read them does not count.
TEST(DeliveryChecker, ACommitSeenAfterTheHandoverLeavesWhatAReaderHadNotCommittedInTheBound) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 4; ++v) checker.sent(v, acknowledged(0, v));
  for (std::int64_t v = 0; v < 4; ++v) checker.consumed(v, {"t", 0, v}, "a", 10 + v);
  for (std::int64_t v = 0; v < 4; ++v) checker.consumed(v, {"t", 0, v}, "b", 15);
  checker.committed("t", 0, 4, "b", 20);
  checker.committed("t", 0, 4, "a", 21);
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered, 4U);
  EXPECT_EQ(verdict.redelivery_bound, 4U) << verdict.to_string();
  EXPECT_TRUE(verdict.holds) << verdict.to_string();
}

// A member whose commits the broker refused during rebalances got its own
// partitions back each time and read the same records three times: each
// read again is of what it had not committed (the soak on the embedded
// broker, which refuses a commit while the group rebalances).
TEST(DeliveryChecker, AMemberThatGetsItsPartitionsBackReadsWhatItHadNotCommittedAgain) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 4; ++v) checker.sent(v, acknowledged(0, v));
  checker.committed("t", 0, 2, "a", 5);
  for (const std::int64_t round : {10, 20, 30}) {
    for (std::int64_t v = 0; v < 4; ++v) checker.consumed(v, {"t", 0, v}, "a", round + v);
  }
  checker.committed("t", 0, 4, "a", 40);
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered, 8U);
  // 0 and 1 were read again past the commit at 2 a had seen: not within it.
  EXPECT_EQ(verdict.redelivery_bound, 4U) << verdict.to_string();
  EXPECT_EQ(verdict.redelivered_past_commit, 4U);
  EXPECT_FALSE(verdict.holds);
}

// a read 0..4 and saw its commit at 3 on the way; b read 2..4 again and
// committed them: one record (2) more than a left uncommitted, read again
// past a commit.
TEST(DeliveryChecker, RedeliveriesBeyondWhatTheReadersLeftUncommittedBreakTheBound) {
  DeliveryChecker checker;
  for (std::int64_t v = 0; v < 5; ++v) checker.sent(v, acknowledged(0, v));
  for (std::int64_t v = 0; v < 5; ++v) checker.consumed(v, {"t", 0, v}, "a", 10 + v);
  checker.committed("t", 0, 3, "a", 12);
  for (std::int64_t v = 2; v < 5; ++v) checker.consumed(v, {"t", 0, v}, "b", 30 + v);
  checker.committed("t", 0, 5, "b", 40);
  const auto verdict = checker.check({.bound_redelivered = true});
  EXPECT_EQ(verdict.redelivered, 3U);
  EXPECT_EQ(verdict.redelivery_bound, 2U) << verdict.to_string();
  EXPECT_EQ(verdict.redelivered_past_commit, 1U);
  EXPECT_FALSE(verdict.holds) << verdict.to_string();
}

}  // namespace
