// A fixture whose Predictions channel (one partition) already holds ten
// records, frames 0..9, for tests of where consumers resume.
#pragma once

#include <vector>

#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"

namespace corps_tests {

class NumberedPredictions : public corps::testing::BrokerTest {
 protected:
  static constexpr int count = 10;

  NumberedPredictions() {
    registry_.bind<corps::proto::Prediction>("Predictions");
    create_topic("Predictions", 1);
    corps::Producer producer(registry_, producer_options());
    for (int n = 0; n < count; ++n) {
      corps::proto::Prediction prediction;
      prediction.set_frame(n);
      EXPECT_TRUE(producer.send("Predictions", prediction).get().ok());
    }
  }

  /// The frame numbers of `records`, in order.
  static std::vector<std::int64_t> frames_of(const std::vector<corps::Record>& records) {
    std::vector<std::int64_t> frames;
    for (const auto& record : records) {
      frames.push_back(record.as<corps::proto::Prediction>().frame());
    }
    return frames;
  }
};

}  // namespace corps_tests
