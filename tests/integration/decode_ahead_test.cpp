// Decoding ahead (ConsumerOptions::decode_threads) hands out exactly what
// decoding on the application's thread would: each partition in offset
// order, nothing of a partition after it was rewound or taken away by a
// rebalance, nothing past the bound held. Each test runs with small
// records, which the consumer's own thread decodes in batches, and with
// large ones (33 kB that do not compress), which go to the workers.
#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/peak_memory.hpp"

namespace {

using namespace std::chrono_literals;

enum class Size { small, large };

class DecodeAhead : public corps::testing::BrokerTest, public ::testing::WithParamInterface<Size> {
 protected:
  DecodeAhead() {
    registry_.bind<corps::proto::Prediction>("Predictions");
    registry_.bind<corps::proto::Image>("Frames");
    create_topic(channel(), 4);
  }

  static std::string channel() { return GetParam() == Size::small ? "Predictions" : "Frames"; }

  // Frames 0..count-1, frame n to partition n % partitions. Few: the
  // embedded broker keeps about 5 MB of each partition's log, and a group
  // with no commit starts at whatever it still has.
  void send_frames(int count, int partitions) {
    corps::Producer producer(registry_, producer_options());
    std::mt19937 random(7);
    for (int n = 0; n < count; ++n) {
      corps::SendOptions options;
      options.partition = n % partitions;
      if (GetParam() == Size::small) {
        corps::proto::Prediction prediction;
        prediction.set_frame(n);
        (void)producer.send(channel(), prediction, options);  // flush() waits for them
      } else {
        corps::proto::Image image;
        image.set_frame(n);
        std::string noise(33'000, '\0');
        for (auto& byte : noise) byte = static_cast<char>(random());
        image.set_image_data(std::move(noise));
        (void)producer.send(channel(), image, options);
      }
    }
    ASSERT_TRUE(producer.flush(60s).ok());
  }

  static std::int64_t frame_of(const corps::Record& record) {
    if (const auto* prediction = record.get_if<corps::proto::Prediction>()) {
      return prediction->frame();
    }
    return record.as<corps::proto::Image>().frame();
  }

  corps::ConsumerOptions decoding_ahead(std::string group, unsigned threads) {
    auto options = consumer_options(std::move(group), {channel()});
    options.decode_threads = threads;
    return options;
  }
};

// Reads `count` images as an application that takes `work` over each
// would; false as soon as one fails to decode or `good` refuses it (given
// the image and how many came before it), or if not all came in 90 s.
bool read_slowly(corps::Consumer& consumer, int count, std::chrono::milliseconds work,
                 const std::function<bool(const corps::proto::Image&, int)>& good) {
  int handed = 0;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (handed < count && std::chrono::steady_clock::now() < deadline) {
    const auto record = consumer.poll(1s);
    if (!record) continue;
    if (!record->ok() || !good(record->as<corps::proto::Image>(), handed)) return false;
    ++handed;
    std::this_thread::sleep_for(work);  // the application's own work
  }
  return handed == count;
}

INSTANTIATE_TEST_SUITE_P(Records, DecodeAhead, ::testing::Values(Size::small, Size::large),
                         [](const auto& info) {
                           return info.param == Size::small ? "Small" : "Large";
                         });

TEST_P(DecodeAhead, OptionsThatCannotWorkAreRefusedNamingThem) {
  auto too_many = decoding_ahead("g", 1000);
  auto no_room = decoding_ahead("g", 2);
  no_room.decode_ahead_bytes = 0;
  for (const auto& [options, named] :
       {std::pair{too_many, "decode_threads"}, std::pair{no_room, "decode_ahead_bytes"}}) {
    try {
      corps::Consumer consumer(registry_, options);
      FAIL() << named << " was accepted";
    } catch (const corps::Exception& e) {
      EXPECT_EQ(e.error().stage(), corps::Stage::config);
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
    }
  }
}

// Two threads and a bound of a few records: the workers finish batches out
// of order and the bound is hit again and again; the application still
// sees every partition in offset order, each record once.
TEST_P(DecodeAhead, EveryPartitionComesInOffsetOrderWhateverTheWorkersDo) {
  send_frames(400, 4);
  auto options = decoding_ahead("ordered", 2);
  options.decode_ahead_bytes = 4'096;
  corps::Consumer consumer(registry_, options);
  std::map<std::int32_t, std::int64_t> last_offset;
  std::set<std::int64_t> frames;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (frames.size() < 400 && std::chrono::steady_clock::now() < deadline) {
    auto record = consumer.poll(200ms);
    if (!record) continue;
    ASSERT_TRUE(record->ok()) << record->error().to_string();
    const auto [previous, first] = last_offset.try_emplace(record->partition(), -1);
    EXPECT_EQ(record->offset(), previous->second + 1) << "partition " << record->partition();
    previous->second = record->offset();
    EXPECT_TRUE(frames.insert(frame_of(*record)).second);
    // Stamped by the consumer's clock, whichever thread decoded it.
    EXPECT_NE(record->fetched_at(), std::chrono::steady_clock::time_point{});
    EXPECT_LE(record->fetched_at(), record->decoded_at());
    EXPECT_LE(record->decoded_at(), std::chrono::steady_clock::now());
  }
  EXPECT_EQ(frames.size(), 400u);
}

// A dead letter that cannot be written sends its record back to be fetched
// again; the records decoded ahead of it in its partition must not come
// first, nor twice.
TEST_P(DecodeAhead, ARecordSentBackComesAgainBeforeWhatWasDecodedAheadOfIt) {
  send_frames(50, 1);
  corps::Consumer consumer(registry_, decoding_ahead("rewound", 2));
  std::vector<std::int64_t> offsets;
  bool sent_back = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (offsets.size() < 51 && std::chrono::steady_clock::now() < deadline) {
    auto record = consumer.poll(200ms);
    if (!record) continue;
    ASSERT_TRUE(record->ok()) << record->error().to_string();
    offsets.push_back(record->offset());
    if (record->offset() == 10 && !sent_back) {
      sent_back = true;
      // No dead-letter channel is configured: the write fails.
      EXPECT_FALSE(consumer
                       .dead_letter(*record, corps::Error(corps::Errc::invalid_argument,
                                                          corps::Stage::handler, "refused"))
                       .ok());
    }
  }
  std::vector<std::int64_t> expected;
  for (std::int64_t offset = 0; offset <= 10; ++offset) expected.push_back(offset);
  for (std::int64_t offset = 10; offset < 50; ++offset) expected.push_back(offset);
  EXPECT_EQ(offsets, expected);
}

// At most once means a record counts as consumed once the application has
// it: what was only decoded ahead, and dropped at close, must not be
// committed, or a clean close would lose it.
TEST_P(DecodeAhead, AtMostOnceCommitsWhatWasHandedOutNotWhatWasDecodedAhead) {
  send_frames(100, 1);
  {
    auto options = decoding_ahead("at-most-once", 2);
    options.commit_mode = corps::CommitMode::automatic;
    corps::Consumer consumer(registry_, options);
    int handed_out = 0;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (handed_out < 10 && std::chrono::steady_clock::now() < deadline) {
      // Slowly, so that librdkafka fetches everything and corps decodes
      // much of it ahead.
      if (consumer.poll(200ms)) ++handed_out;
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(handed_out, 10);
  }
  EXPECT_EQ(corps::testing::committed_offset(brokers(), "at-most-once", channel(), 0), 10);
}

// The first member has most of the topic decoded ahead when a second joins;
// once the rebalance took partitions from it, it must hand out none of
// theirs (the second reads them from the last commit), and the two together
// read everything.
TEST_P(DecodeAhead, NothingOfAPartitionTakenAwayIsHandedOutAfterTheRebalance) {
  send_frames(400, 4);
  auto first_options = decoding_ahead("shared", 2);
  first_options.client_id = "first";
  corps::Consumer first(registry_, first_options);
  std::set<std::int64_t> frames;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  std::optional<corps::Record> record;
  while (!record && std::chrono::steady_clock::now() < deadline) record = first.poll(200ms);
  ASSERT_TRUE(record && record->ok());
  frames.insert(frame_of(*record));
  ASSERT_EQ(first.assignment().size(), 4u);
  // librdkafka fetches the rest meanwhile; the next poll takes a step of it
  // into the read-ahead.
  std::this_thread::sleep_for(1s);
  record = first.poll(1s);
  ASSERT_TRUE(record && record->ok());
  frames.insert(frame_of(*record));

  auto second_options = decoding_ahead("shared", 2);
  second_options.client_id = "second";
  corps::Consumer second(registry_, second_options);
  // The second joins; the group waits for the first, which is not polling
  // and so still holds what it decoded ahead.
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(second.poll(100ms).has_value());

  while ((frames.size() < 400 || first.assignment().size() != 2) &&
         std::chrono::steady_clock::now() < deadline) {
    if (auto mine = first.poll(50ms)) {
      ASSERT_TRUE(mine->ok());
      std::set<std::int32_t> assigned;
      for (const auto& partition : first.assignment()) assigned.insert(partition.partition);
      EXPECT_EQ(assigned.count(mine->partition()), 1u)
          << "partition " << mine->partition() << " was handed out after it was taken away";
      frames.insert(frame_of(*mine));
    }
    if (auto theirs = second.poll(50ms)) {
      ASSERT_TRUE(theirs->ok());
      frames.insert(frame_of(*theirs));
    }
  }
  EXPECT_EQ(frames.size(), 400u);
  EXPECT_EQ(first.assignment().size(), 2u);
  EXPECT_EQ(second.assignment().size(), 2u);
}

// The bound counts what records decode to, not only what was fetched: a
// record of zeros is a thousand times larger decoded. 60 records of 4 MB of
// zeros (4 kB fetched, or 37 kB with 33 kB of noise before the zeros) for
// an application that takes 20 ms a record: decoded all ahead, they would
// hold 240 MB.
TEST_P(DecodeAhead, WhatIsDecodedAheadStaysWithinTheBoundInDecodedBytes) {
  constexpr int count = 60;
  constexpr std::size_t zeros = std::size_t{4} << 20;
  if (channel() != "Frames") create_topic("Frames", 4);
  {
    corps::Producer producer(registry_, producer_options());
    std::mt19937 random(11);
    for (int n = 0; n < count; ++n) {
      corps::proto::Image image;
      image.set_frame(n);
      std::string data(GetParam() == Size::large ? 33'000 : 0, '\0');
      for (auto& byte : data) byte = static_cast<char>(random());
      data.resize(data.size() + zeros, '\0');
      image.set_image_data(std::move(data));
      corps::SendOptions options;
      options.partition = n % 4;
      (void)producer.send("Frames", image, options);
    }
    ASSERT_TRUE(producer.flush(60s).ok());
  }
  auto options = consumer_options("bounded", {"Frames"});
  options.decode_threads = 2;
  options.decode_ahead_bytes = std::size_t{4} << 20;  // librdkafka fetches all 60 at once
  const auto grown = corps_tests::peak_memory_growth([&] {
    corps::Consumer consumer(registry_, options);
    return read_slowly(consumer, count, 20ms, [&](const corps::proto::Image& image, int) {
      return image.image_data().size() >= zeros;
    });
  });
  ASSERT_TRUE(grown.has_value()) << "not every record came, decoded";
  std::cout << "[ peak RSS ] " << count << " records of 4 MB decoded, 4 MiB bound: consumer +"
            << *grown / (1 << 20) << " MiB\n";
  if (!corps_tests::memory_figures_hold) {
    GTEST_SKIP() << "a sanitizer makes memory cost more; the bound holds in the plain build";
  }
  // The bound; a record past it per decoder (two workers and the
  // application's thread), each decoder's inflate buffer (up to twice a
  // record), the record in the application's hands, what the allocator
  // keeps of records freed, and the client itself. Measured: +26 MiB
  // (small) and +53 MiB (large); without decoded bytes counted, +249 and
  // +211 MiB.
  EXPECT_LT(*grown, options.decode_ahead_bytes + 16 * zeros + (std::size_t{16} << 20));
}

// Both kinds at once: small records (as fetched), which the application's
// thread decodes a batch at a time, between large ones, which the workers
// decode ahead. Each decodes to 2 MiB of zeros. What the application's
// thread holds counts against the bound too: else the workers fill the
// bound again on top of a batch decoded there, and twice the bound is held.
class MixedDecodeAhead : public corps::testing::BrokerTest {
 protected:
  MixedDecodeAhead() {
    registry_.bind<corps::proto::Image>("Frames");
    create_topic("Frames", 1);
  }
};

TEST_F(MixedDecodeAhead, SmallAndLargeRecordsTogetherStayWithinTheBound) {
  constexpr std::size_t zeros = std::size_t{2} << 20;
  constexpr int groups = 5;
  constexpr int small_per_group = 16;  // 1 kB as fetched: the application's thread
  constexpr int large_per_group = 8;   // 33 kB of noise first: the workers
  constexpr int count = groups * (small_per_group + large_per_group);
  {
    corps::Producer producer(registry_, producer_options());
    std::mt19937 random(13);
    int frame = 0;
    for (int group = 0; group < groups; ++group) {
      for (int n = 0; n < small_per_group + large_per_group; ++n) {
        corps::proto::Image image;
        image.set_frame(frame++);
        std::string data(n < small_per_group ? 0 : 33'000, '\0');
        for (auto& byte : data) byte = static_cast<char>(random());
        data.resize(data.size() + zeros, '\0');
        image.set_image_data(std::move(data));
        (void)producer.send("Frames", image);  // flush() waits for them
      }
    }
    ASSERT_TRUE(producer.flush(60s).ok());
  }
  auto options = consumer_options("mixed", {"Frames"});
  options.decode_threads = 2;
  options.decode_ahead_bytes = std::size_t{32} << 20;
  const auto grown = corps_tests::peak_heap_growth([&] {
    corps::Consumer consumer(registry_, options);
    return read_slowly(consumer, count, 10ms, [](const corps::proto::Image& image, int handed) {
      return image.frame() == handed;
    });
  });
  ASSERT_TRUE(grown.has_value()) << "not every record came, decoded, in order";
  std::cout << "[ peak heap ] " << count << " records of 2 MiB decoded, small and large mixed, "
            << "32 MiB bound: consumer +" << *grown / (1 << 20) << " MiB\n";
  if (!corps_tests::memory_figures_hold) {
    GTEST_SKIP() << "a sanitizer makes memory cost more; the bound holds in the plain build";
  }
  // The bound; a record past it per decoder (two workers and the
  // application's thread); each decoder's inflate buffer, up to twice a
  // record; the record in the application's hands; the client itself.
  EXPECT_LT(*grown, options.decode_ahead_bytes + 10 * zeros + (std::size_t{4} << 20));
}

}  // namespace
