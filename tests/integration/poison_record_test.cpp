#include <gtest/gtest.h>
#include <zlib.h>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;
using corps::testing::RawValue;

class PoisonRecord : public corps::testing::BrokerTest {
 protected:
  PoisonRecord() {
    registry_.bind<corps::proto::Image>("VideoStream");
    create_topic("VideoStream", 1);
  }

  std::string good_value(int frame) {
    corps::MessageHandler handler(registry_);
    corps::proto::Image image;
    image.set_frame(frame);
    return std::string(handler.encode("VideoStream", image)->value.view());
  }
};

TEST_F(PoisonRecord, BadRecordsAreTypedErrorsAndTheGoodOnesStillArrive) {
  const auto good = good_value(1);
  corps::proto::Prediction other;
  other.set_frame(9);
  corps::MessageHandler other_handler([] {
    corps::ChannelRegistry r;
    r.bind<corps::proto::Prediction>("Predictions");
    return r;
  }());
  const std::string other_value(other_handler.encode("Predictions", other)->value.view());

  const std::vector<RawValue> records{
      {good},
      {std::string("\x00\x01garbage", 9)},  // byte 0 first: a schema registry's framing, broken
      {std::string("\x01\x02garbage", 9)},
      {good},
      {good.substr(0, good.size() / 2)},
      {good},
      {good + "tail"},
      {std::nullopt},
      {good},
      {other_value, std::nullopt, {{"corps-type", "corps.proto.Prediction"}}},
      {good},
  };
  corps::testing::produce_raw(brokers(), "VideoStream", records);

  corps::Consumer consumer(registry_, consumer_options("poison", {"VideoStream"}));
  const auto received = consume(consumer, records.size());
  ASSERT_EQ(received.size(), records.size());
  const std::vector<std::optional<corps::Stage>> expected{std::nullopt,
                                                          corps::Stage::framing,
                                                          corps::Stage::decompress,
                                                          std::nullopt,
                                                          corps::Stage::decompress,
                                                          std::nullopt,
                                                          corps::Stage::decompress,
                                                          corps::Stage::decompress,
                                                          std::nullopt,
                                                          corps::Stage::type,
                                                          std::nullopt};
  for (std::size_t i = 0; i < received.size(); ++i) {
    const auto& record = received[i];
    EXPECT_EQ(record.offset(), static_cast<std::int64_t>(i));
    if (!expected[i]) {
      EXPECT_TRUE(record.ok()) << i << ": " << record.error().to_string();
      continue;
    }
    ASSERT_FALSE(record.ok()) << "record " << i << " should fail";
    EXPECT_EQ(record.error().stage(), *expected[i]) << record.error().to_string();
    EXPECT_EQ(record.error().location(), record.location());
    // The raw bytes stay available for logging or routing.
    EXPECT_EQ(record.value().has_value(), records[i].value.has_value());
  }
  EXPECT_EQ(received[1].error().code(), corps::Errc::corrupt_data);
  EXPECT_EQ(received[2].error().code(), corps::Errc::corrupt_data);
  EXPECT_EQ(received[4].error().code(), corps::Errc::truncated_data);
  EXPECT_EQ(received[6].error().code(), corps::Errc::trailing_data);
  EXPECT_EQ(received[7].error().code(), corps::Errc::empty_value);
  EXPECT_THROW((void)received[1].message(), corps::Exception);
}

}  // namespace
