#include <gtest/gtest.h>

#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/numbered_predictions.hpp"
#include "support/retention.hpp"

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

TEST_F(CommitResume, RecordsTheBrokerDroppedBeforeTheyWereReadAreReportedNotSkipped) {
  {
    corps::Consumer consumer(registry_, consumer_options("retention", {"Predictions"}));
    ASSERT_EQ(consume(consumer, 1).size(), 1u);
    ASSERT_TRUE(consumer.close().ok());  // committed: the group resumes at offset 1
  }
  corps::Producer producer(registry_, corps_tests::allowing_large_records(producer_options()));
  corps_tests::push_out_of_retention(producer, "Predictions", brokers());
  corps::Consumer resumed(registry_, consumer_options("retention", {"Predictions"}));
  const auto records = consume(resumed, 2);
  ASSERT_EQ(records.size(), 2u);
  ASSERT_FALSE(records[0].ok());
  EXPECT_EQ(records[0].error().code(), corps::Errc::records_missing);
  EXPECT_EQ(records[0].error().stage(), corps::Stage::consume);
  EXPECT_EQ(records[0].offset(), 1) << records[0].error().to_string();
  EXPECT_NE(records[0].error().message().find("offsets 1.."), std::string::npos);
  ASSERT_TRUE(records[1].ok());
  EXPECT_GT(records[1].offset(), 1);
}

// A broker that restarts or has just become leader can answer a fetch
// "offset out of range" for an offset it holds a moment later. librdkafka
// then starts the partition again where auto.offset.reset says (for corps,
// the log start): without a check, records already read or committed would
// be delivered again.
using MockCommitResume = CommitResume;

TEST_F(MockCommitResume, AFetchOutOfRangeOnResumingDoesNotDeliverCommittedRecordsAgain) {
  {
    corps::Consumer consumer(registry_, consumer_options("out-of-range", {"Predictions"}));
    EXPECT_EQ(frames_of(consume(consumer, 4)), (std::vector<std::int64_t>{0, 1, 2, 3}));
    ASSERT_TRUE(consumer.close().ok());  // committed: the group resumes at offset 4
  }
  broker().push_request_errors(corps::KafkaApi::fetch, {corps::KafkaError::offset_out_of_range});
  corps::Consumer restarted(registry_, consumer_options("out-of-range", {"Predictions"}));
  EXPECT_EQ(frames_of(consume(restarted, 6)), (std::vector<std::int64_t>{4, 5, 6, 7, 8, 9}));
  EXPECT_FALSE(restarted.poll(1s).has_value()) << "nothing delivered twice";
}

TEST_F(MockCommitResume, AFetchOutOfRangeMidStreamDoesNotDeliverRecordsAgain) {
  corps::Consumer consumer(registry_, consumer_options("mid-stream", {"Predictions"}));
  EXPECT_EQ(frames_of(consume(consumer, count)).size(), std::size_t{count});
  // Every fetch fails for a while, so the one after the last record does.
  broker().push_request_errors(
      corps::KafkaApi::fetch,
      std::vector<corps::KafkaError>(3, corps::KafkaError::offset_out_of_range));
  corps::Producer producer(registry_, producer_options());
  for (int frame = count; frame < count + 3; ++frame) {
    corps::proto::Prediction prediction;
    prediction.set_frame(frame);
    ASSERT_TRUE(producer.send("Predictions", prediction).get().ok());
  }
  EXPECT_EQ(frames_of(consume(consumer, 3)), (std::vector<std::int64_t>{10, 11, 12}));
  EXPECT_FALSE(consumer.poll(1s).has_value()) << "nothing delivered twice";
}

}  // namespace
