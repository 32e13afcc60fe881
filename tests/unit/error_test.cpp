#include "corps/error.hpp"

#include <gtest/gtest.h>

#include "corps/result.hpp"

namespace {

using corps::Errc;
using corps::Error;
using corps::Stage;

TEST(Error, SaysStageCodeLocationAndDetail) {
  const Error error(Errc::trailing_data, Stage::decompress, "7 bytes follow",
                    corps::RecordLocation{"VideoStream", 2, 41});
  EXPECT_EQ(error.to_string(),
            "decompress error (trailing_data) at VideoStream[2]@41: 7 bytes follow");
}

TEST(Error, OmitsTheLocationWhenThereIsNoRecord) {
  const Error error(Errc::invalid_argument, Stage::config, "bad");
  EXPECT_EQ(error.to_string(), "config error (invalid_argument): bad");
}

TEST(Error, ClassifiesWhatRetryingMayFix) {
  EXPECT_TRUE(Error(Errc::timed_out, Stage::delivery, "").retriable());
  EXPECT_TRUE(Error(Errc::queue_full, Stage::produce, "").retriable());
  EXPECT_FALSE(Error(Errc::corrupt_data, Stage::decompress, "").retriable());
}

TEST(KafkaError, IsKafkasNumberAndNameForBrokerAndClientCodes) {
  // Broker answers keep the protocol's numbers, so a code read off the wire
  // and a code corps reports compare equal.
  EXPECT_EQ(static_cast<int>(corps::KafkaError::not_leader_or_follower), 6);
  EXPECT_EQ(corps::kafka_error_name(corps::KafkaError::request_timed_out), "REQUEST_TIMED_OUT");
  EXPECT_EQ(corps::kafka_error_name(corps::KafkaError::message_timed_out), "_MSG_TIMED_OUT");
  // A code corps does not name is still carried, as its number.
  const corps::Error error(corps::Errc::kafka_error, corps::Stage::produce, "refused",
                           std::nullopt, static_cast<corps::KafkaError>(87));
  EXPECT_EQ(corps::kafka_error_name(error.kafka_error()), "INVALID_RECORD");
  EXPECT_EQ(corps::Error(corps::Errc::parse_failed, corps::Stage::parse, "x").kafka_error(),
            corps::KafkaError::none);
}

TEST(Result, HoldsAValueOrAnError) {
  corps::Result<int> good(4);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  corps::Result<int> bad(Error(Errc::parse_failed, Stage::parse, "no"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Errc::parse_failed);
}

TEST(Result, ReadingTheValueOfAFailureThrowsItsError) {
  corps::Result<int> bad(Error(Errc::parse_failed, Stage::parse, "no"));
  try {
    (void)bad.value();
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), Errc::parse_failed);
    EXPECT_STREQ(e.what(), "parse error (parse_failed): no");
  }
}

TEST(Status, ThrowsOnlyWhenItIsAFailure) {
  EXPECT_NO_THROW(corps::Status().throw_if_error());
  EXPECT_THROW(corps::Status(Error(Errc::timed_out, Stage::commit, "")).throw_if_error(),
               corps::Exception);
}

}  // namespace
