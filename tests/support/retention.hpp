// Makes a broker drop a partition's oldest records, as retention does: the
// embedded broker keeps about the last 5 MiB of each partition, so enough
// new records push the old ones out; a real Kafka keeps a week by default
// and checks every five minutes, so there the old records are deleted
// outright (DeleteRecords), which moves the partition's start the same way.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "corps/admin.hpp"
#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"

namespace corps_tests {

/// Sends Predictions (frames first, first+1, ...) to partition 0 of
/// `channel` on `brokers`, and leaves the partition holding only some of
/// them: every record before them is gone. On the embedded broker these are
/// ten of about 0.75 MiB each once compressed (random letters), and
/// `producer` must allow 4 MB records.
inline void push_out_of_retention(corps::Producer& producer, const std::string& channel,
                                  const std::string& brokers, std::int64_t first = 100) {
  const bool real_kafka = corps::testing::test_target() == corps::testing::TestTarget::kafka;
  std::mt19937 random(3);
  std::string noise(real_kafka ? 16 : 1 << 20, '\0');
  std::int64_t first_offset = -1;
  for (int n = 0; n < (real_kafka ? 3 : 10); ++n) {
    for (auto& c : noise) c = static_cast<char>('a' + random() % 26);
    corps::proto::Prediction big;
    big.set_frame(first + n);
    big.add_object(noise);
    const auto report = producer.send(channel, big, {.partition = 0}).get();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    if (first_offset < 0) first_offset = report.location().offset;
  }
  if (real_kafka) {
    corps::Admin admin({.brokers = brokers});
    ASSERT_EQ(admin.delete_records(channel, 0, first_offset), first_offset);
  }
}

/// Producer options that allow push_out_of_retention's records.
inline corps::ProducerOptions allowing_large_records(corps::ProducerOptions options) {
  options.properties["message.max.bytes"] = "4000000";
  return options;
}

}  // namespace corps_tests
