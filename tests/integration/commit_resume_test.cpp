#include <gtest/gtest.h>

#include "corps/corps.hpp"
#include "corps/testing/broker_test.hpp"
#include "support/numbered_predictions.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

using CommitResume = corps_tests::NumberedPredictions;

TEST_F(CommitResume, ARestartedMemberResumesAfterTheLastHandledRecord) {
  {
    corps::Consumer consumer(registry_, consumer_options("resume", {"Predictions"}));
    EXPECT_EQ(corps_tests::NumberedPredictions::frames_of(consume(consumer, 4)),
              (std::vector<std::int64_t>{0, 1, 2, 3}));
    ASSERT_TRUE(consumer.close().ok());
  }
  corps::Consumer restarted(registry_, consumer_options("resume", {"Predictions"}));
  EXPECT_EQ(corps_tests::NumberedPredictions::frames_of(consume(restarted, 6)),
            (std::vector<std::int64_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(restarted.poll(1s).has_value()) << "nothing delivered twice";
}

TEST_F(CommitResume, ARecordWhoseHandlerThrewIsDeliveredAgain) {
  try {
    corps::Consumer consumer(registry_, consumer_options("throws", {"Predictions"}));
    for (auto& record : consumer) {
      if (record.as<corps::proto::Prediction>().frame() == 2)
        throw std::runtime_error("handler failed");
    }
  } catch (const std::runtime_error&) {
  }
  corps::Consumer restarted(registry_, consumer_options("throws", {"Predictions"}));
  const auto frames = corps_tests::NumberedPredictions::frames_of(consume(restarted, 8));
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.front(), 2) << "frames 0 and 1 were handled; 2 was not";
}

TEST_F(CommitResume, ManualModeCommitsOnlyWhatIsCommitted) {
  {
    auto options = consumer_options("manual", {"Predictions"});
    options.commit_mode = corps::CommitMode::manual;
    corps::Consumer consumer(registry_, options);
    const auto records = consume(consumer, 6);
    ASSERT_EQ(records.size(), 6u);
    ASSERT_TRUE(consumer.commit(records[2]).ok());
    const auto committed = consumer.committed({"Predictions", 0}, 5s);
    ASSERT_TRUE(committed.ok());
    EXPECT_EQ(*committed, 3);
    ASSERT_TRUE(consumer.close().ok());
  }
  corps::Consumer restarted(registry_, consumer_options("manual", {"Predictions"}));
  const auto frames = corps_tests::NumberedPredictions::frames_of(consume(restarted, 7));
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames.front(), 3);
}

TEST_F(CommitResume, ExplicitCommitCoversEveryRecordReturned) {
  corps::Consumer consumer(registry_, consumer_options("explicit", {"Predictions"}));
  ASSERT_EQ(consume(consumer, 5).size(), 5u);
  ASSERT_TRUE(consumer.commit().ok());
  EXPECT_EQ(*consumer.committed({"Predictions", 0}, 5s), 5);
}

TEST_F(CommitResume, AClosedConsumerRefusesToCommit) {
  corps::Consumer consumer(registry_, consumer_options("closed", {"Predictions"}));
  ASSERT_TRUE(consumer.close().ok());
  const auto status = consumer.commit();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), corps::Errc::closed);
  EXPECT_FALSE(consumer.poll(10ms).has_value());
}

}  // namespace
