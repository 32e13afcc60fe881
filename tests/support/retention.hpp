// Makes the embedded broker drop a partition's oldest records, as retention
// does on a real cluster: it keeps about the last 5 MiB of each partition.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "corps/corps.hpp"
#include "corps/prediction.pb.h"

namespace corps_tests {

/// Sends ten Predictions (frames first..first+9) of about 0.75 MiB each once
/// compressed (random letters) to `channel`, which pushes every record before
/// them out of its partition. `producer` must allow 4 MB records.
inline void push_out_of_retention(corps::Producer& producer, const std::string& channel,
                                  std::int64_t first = 100) {
  std::mt19937 random(3);
  std::string noise(1 << 20, '\0');
  for (int n = 0; n < 10; ++n) {
    for (auto& c : noise) c = static_cast<char>('a' + random() % 26);
    corps::proto::Prediction big;
    big.set_frame(first + n);
    big.add_object(noise);
    const auto report = producer.send(channel, big).get();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
  }
}

/// Producer options that allow push_out_of_retention's records.
inline corps::ProducerOptions allowing_large_records(corps::ProducerOptions options) {
  options.properties["message.max.bytes"] = "4000000";
  return options;
}

}  // namespace corps_tests
