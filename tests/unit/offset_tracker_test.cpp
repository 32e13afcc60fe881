// The consumer's offset bookkeeping, without a broker: what the broker would
// say (log starts, committed offsets) comes from a scripted LogFacts.
#include "detail/offset_tracker.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

using corps::RecordLocation;
using corps::detail::LogFacts;
using corps::detail::OffsetTracker;

class ScriptedLog final : public LogFacts {
 public:
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> log_starts;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> log_ends;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> commits;
  bool committed_fails = false;
  std::vector<std::vector<std::pair<std::string, std::int32_t>>> committed_questions;

  std::optional<std::int64_t> known_log_start(std::string_view topic,
                                              std::int32_t partition) override {
    const auto found = log_starts.find({std::string(topic), partition});
    if (found == log_starts.end()) return std::nullopt;
    return found->second;
  }
  std::optional<std::int64_t> known_log_end(std::string_view topic,
                                            std::int32_t partition) override {
    const auto found = log_ends.find({std::string(topic), partition});
    if (found == log_ends.end()) return std::nullopt;
    return found->second;
  }
  std::int64_t log_start(std::string_view topic, std::int32_t partition) override {
    return known_log_start(topic, partition).value_or(-1);
  }
  std::optional<std::vector<std::int64_t>> committed(
      const std::vector<std::pair<std::string, std::int32_t>>& partitions) override {
    committed_questions.push_back(partitions);
    if (committed_fails) return std::nullopt;
    std::vector<std::int64_t> out;
    for (const auto& key : partitions) {
      const auto found = commits.find(key);
      out.push_back(found == commits.end() ? -1 : found->second);
    }
    return out;
  }
};

RecordLocation at(std::int64_t offset, std::int32_t partition = 0) {
  return RecordLocation{"Orders", partition, offset};
}

TEST(OffsetTracker, ConsecutiveOffsetsAreNoGap) {
  ScriptedLog log;
  OffsetTracker tracker(/*grouped=*/false);
  tracker.placed("Orders", 0, 10);
  for (std::int64_t offset = 10; offset < 20; ++offset) {
    EXPECT_FALSE(tracker.arrived(at(offset), log).missing) << offset;
  }
}

TEST(OffsetTracker, APartitionRevokedWhileLastAskedForIsForgottenWhole) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  OffsetTracker tracker(/*grouped=*/false);
  tracker.placed("Orders", 0, 10);
  tracker.placed("Orders", 1, 0);
  EXPECT_FALSE(tracker.arrived(at(10), log).missing);  // partition 0, the last asked for
  tracker.revoked("Orders", 0);
  // Placed again, it starts from what it is told now, not from offset 11.
  tracker.placed("Orders", 0, 3);
  EXPECT_FALSE(tracker.arrived(at(3), log).missing);
  EXPECT_FALSE(tracker.arrived(at(0, 1), log).missing);
  EXPECT_FALSE(tracker.arrived(at(4), log).missing);
}

TEST(OffsetTracker, AJumpPastTheLogStartIsReportedAsTheDeletedOffsets) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 50;
  OffsetTracker tracker(false);
  tracker.placed("Orders", 0, 10);
  const auto missing = tracker.arrived(at(50), log).missing;
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->from, 10);
  EXPECT_EQ(missing->to, 49);
  // Reported once: the next record follows on.
  EXPECT_FALSE(tracker.arrived(at(51), log).missing);
}

TEST(OffsetTracker, AJumpWithinTheKeptLogIsCompactionNotLoss) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  OffsetTracker tracker(false);
  tracker.placed("Orders", 0, 10);
  EXPECT_FALSE(tracker.arrived(at(30), log).missing);
}

TEST(OffsetTracker, OnlyTheOffsetsBelowTheLogStartAreMissing) {
  // Deleted up to 20, then compaction (or markers) skipped 20..29.
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 20;
  OffsetTracker tracker(false);
  tracker.placed("Orders", 0, 5);
  const auto missing = tracker.arrived(at(30), log).missing;
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->from, 5);
  EXPECT_EQ(missing->to, 19);
}

TEST(OffsetTracker, AnUnknownLogStartReportsNothing) {
  ScriptedLog log;  // the broker cannot say
  OffsetTracker tracker(false);
  tracker.placed("Orders", 0, 0);
  EXPECT_FALSE(tracker.arrived(at(100), log).missing);
}

TEST(OffsetTracker, WithoutAGroupTheFirstRecordIsWhereReadingWasAskedToStart) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 50;
  OffsetTracker tracker(false);  // started at "end" or "beginning": no offset placed
  EXPECT_FALSE(tracker.arrived(at(50), log).missing);
  EXPECT_TRUE(log.committed_questions.empty());
}

TEST(OffsetTracker, AGroupResumingPastItsCommitAtTheLogStartReportsTheDeletedOffsets) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 40;
  log.commits[{"Orders", 0}] = 25;
  OffsetTracker tracker(/*grouped=*/true);
  tracker.assigned("Orders", 0);
  const auto missing = tracker.arrived(at(40), log).missing;
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->from, 25);
  EXPECT_EQ(missing->to, 39);
}

TEST(OffsetTracker, AGroupWithoutACommitLosesNothingAtTheLogStart) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 40;
  OffsetTracker tracker(true);
  tracker.assigned("Orders", 0);
  EXPECT_FALSE(tracker.arrived(at(40), log).missing);
}

TEST(OffsetTracker, AGroupResumingAtItsCommitAsksNothing) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 40;
  OffsetTracker tracker(true);
  tracker.assigned("Orders", 0);
  EXPECT_FALSE(tracker.arrived(at(45), log).missing);  // not at the log start
  EXPECT_TRUE(log.committed_questions.empty());
}

TEST(OffsetTracker, CommittedOffsetsAreAskedOnceForAllNewPartitions) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 40;
  log.log_starts[{"Orders", 1}] = 7;
  log.commits[{"Orders", 0}] = 30;
  log.commits[{"Orders", 1}] = 3;
  OffsetTracker tracker(true);
  tracker.assigned("Orders", 0);
  tracker.assigned("Orders", 1);
  ASSERT_TRUE(tracker.arrived(at(40, 0), log).missing);
  const auto second = tracker.arrived(at(7, 1), log).missing;
  ASSERT_TRUE(second);
  EXPECT_EQ(second->from, 3);
  EXPECT_EQ(second->to, 6);
  ASSERT_EQ(log.committed_questions.size(), 1U);
  EXPECT_EQ(log.committed_questions[0].size(), 2U);
}

TEST(OffsetTracker, ACommitThatCannotBeReadReportsNothingAndIsAskedAgain) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 40;
  log.commits[{"Orders", 0}] = 10;
  log.committed_fails = true;
  OffsetTracker tracker(true);
  tracker.assigned("Orders", 0);
  EXPECT_FALSE(tracker.arrived(at(40), log).missing);
  // Reassigned (its state is new again), the broker answers now.
  log.committed_fails = false;
  tracker.revoked("Orders", 0);
  tracker.assigned("Orders", 0);
  const auto missing = tracker.arrived(at(40), log).missing;
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->from, 10);
  EXPECT_EQ(log.committed_questions.size(), 2U);
}

// librdkafka starts a partition again where auto.offset.reset says when a
// fetch is answered "offset out of range", as a restarting broker or a new
// leader may answer for a moment.
TEST(OffsetTracker, AClientGoingBackBeforeWhatWasReadGoesOnWhereItWas) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  log.log_ends[{"Orders", 0}] = 20;
  OffsetTracker tracker(/*grouped=*/true);
  tracker.assigned("Orders", 0);
  tracker.placed("Orders", 0, 10);
  for (std::int64_t offset = 10; offset < 13; ++offset) {
    EXPECT_FALSE(tracker.arrived(at(offset), log).resume_at);
  }
  const auto back = tracker.arrived(at(0), log);
  EXPECT_FALSE(back.missing);
  ASSERT_TRUE(back.resume_at);
  EXPECT_EQ(*back.resume_at, 13);
  tracker.placed("Orders", 0, 13);  // as the consumer's rewind does
  const auto next = tracker.arrived(at(13), log);
  EXPECT_FALSE(next.resume_at);
  EXPECT_FALSE(next.missing);
}

TEST(OffsetTracker, AGroupStartedAtTheLogStartBelowItsCommitGoesOnAtTheCommit) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  log.log_ends[{"Orders", 0}] = 10;
  log.commits[{"Orders", 0}] = 4;
  OffsetTracker tracker(/*grouped=*/true);
  tracker.assigned("Orders", 0);
  const auto first = tracker.arrived(at(0), log);
  EXPECT_FALSE(first.missing);
  ASSERT_TRUE(first.resume_at);
  EXPECT_EQ(*first.resume_at, 4);
  tracker.placed("Orders", 0, 4);
  EXPECT_FALSE(tracker.arrived(at(4), log).resume_at);
}

TEST(OffsetTracker, AGroupWithoutACommitStartsAtTheLogStartAsAsked) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  OffsetTracker tracker(/*grouped=*/true);
  tracker.assigned("Orders", 0);
  const auto first = tracker.arrived(at(0), log);
  EXPECT_FALSE(first.resume_at);
  EXPECT_FALSE(first.missing);
  EXPECT_FALSE(tracker.arrived(at(1), log).resume_at);
  EXPECT_EQ(log.committed_questions.size(), 1U);
}

TEST(OffsetTracker, GoingBackPastWhereTheLogNowEndsReadsAgainRatherThanWait) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  log.log_ends[{"Orders", 0}] = 5;  // truncated below what was read
  OffsetTracker tracker(/*grouped=*/false);
  tracker.placed("Orders", 0, 10);
  const auto back = tracker.arrived(at(3), log);
  EXPECT_FALSE(back.resume_at);
  EXPECT_FALSE(back.missing);
  EXPECT_FALSE(tracker.arrived(at(4), log).resume_at) << "read on from 3";
}

TEST(OffsetTracker, GoingBackAgainAndAgainIsFollowedAfterAFewReturns) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  log.log_ends[{"Orders", 0}] = 20;
  OffsetTracker tracker(/*grouped=*/false);
  tracker.placed("Orders", 0, 10);
  for (int round = 0; round < 3; ++round) {
    const auto back = tracker.arrived(at(0), log);
    ASSERT_TRUE(back.resume_at) << round;
    EXPECT_EQ(*back.resume_at, 10);
    tracker.placed("Orders", 0, 10);
  }
  EXPECT_FALSE(tracker.arrived(at(0), log).resume_at);
  EXPECT_FALSE(tracker.arrived(at(1), log).resume_at);
  // A record read where due makes returning possible again.
  tracker.placed("Orders", 0, 10);
  EXPECT_FALSE(tracker.arrived(at(10), log).resume_at);
  EXPECT_TRUE(tracker.arrived(at(0), log).resume_at);
}

TEST(OffsetTracker, ARewindIsNoGapAndDropsThePendingRecordOfItsPartitionOnly) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 0;
  OffsetTracker tracker(false);
  tracker.placed("Orders", 0, 0);
  ASSERT_FALSE(tracker.arrived(at(0), log).missing);
  tracker.handed_out(at(0));
  tracker.placed("Orders", 1, 3);  // another partition
  ASSERT_TRUE(tracker.take_pending());
  tracker.handed_out(at(5));
  tracker.placed("Orders", 0, 5);  // fetch offset 5 again
  EXPECT_FALSE(tracker.take_pending());
  EXPECT_FALSE(tracker.arrived(at(5), log).missing);
}

TEST(OffsetTracker, ThePendingRecordIsTakenOnceWithTheOffsetAfterIt) {
  OffsetTracker tracker(true);
  tracker.handed_out(at(41, 2));
  const auto pending = tracker.take_pending();
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->topic, "Orders");
  EXPECT_EQ(pending->partition, 2);
  EXPECT_EQ(pending->next_offset, 42);
  EXPECT_FALSE(tracker.take_pending());
}

TEST(OffsetTracker, AnExplicitCommitDropsThePendingRecordOnlyIfItCoversIt) {
  OffsetTracker tracker(true);
  tracker.handed_out(at(10));
  tracker.drop_pending(at(9));  // an earlier record: 10 is still pending
  EXPECT_TRUE(tracker.take_pending());
  tracker.handed_out(at(10));
  tracker.drop_pending(at(10, 1));  // another partition
  EXPECT_TRUE(tracker.take_pending());
  tracker.handed_out(at(10));
  tracker.drop_pending(at(12));
  EXPECT_FALSE(tracker.take_pending());
  tracker.handed_out(at(10));
  tracker.drop_pending();
  EXPECT_FALSE(tracker.take_pending());
}

TEST(OffsetTracker, APartitionsEndIsKnownUntilARecordOfItIsFetched) {
  OffsetTracker tracker(false);
  EXPECT_FALSE(tracker.end_of("Orders", 0));
  tracker.reached_end("Orders", 0, 12);
  tracker.reached_end("Orders", 1, 4);
  EXPECT_EQ(tracker.end_of("Orders", 0), 12);
  tracker.reached_end("Orders", 0, 13);
  EXPECT_EQ(tracker.end_of("Orders", 0), 13);
  tracker.fetched("Orders", 0);
  EXPECT_FALSE(tracker.end_of("Orders", 0));
  EXPECT_EQ(tracker.end_of("Orders", 1), 4);
  tracker.placed("Orders", 1, 0);  // a seek: the end is no longer where we are
  EXPECT_FALSE(tracker.end_of("Orders", 1));
}

TEST(OffsetTracker, ARevokedPartitionIsForgottenWhole) {
  ScriptedLog log;
  log.log_starts[{"Orders", 0}] = 50;
  OffsetTracker tracker(true);
  tracker.assigned("Orders", 0);
  tracker.placed("Orders", 0, 10);
  tracker.reached_end("Orders", 0, 10);
  tracker.revoked("Orders", 0);
  EXPECT_FALSE(tracker.end_of("Orders", 0));
  // Assigned again: the old position no longer makes 10..49 look missing;
  // the group has no commit, so nothing is.
  tracker.assigned("Orders", 0);
  EXPECT_FALSE(tracker.arrived(at(50), log).missing);
}

}  // namespace
