// Offsets that jump without anything lost: a partition's offsets are not
// always consecutive. Compaction removes records from inside batches, a
// transaction's marker takes an offset no consumer sees, and a consumer that
// starts at the end starts wherever the end is when it gets there. None of
// these is a loss; only records the broker deleted before they were read
// are (commit_resume_test.cpp has that case).
//
// The embedded broker neither compacts nor writes markers: there the batches
// are written by tests/interop/offset_gaps.py, with kafka-python's batch
// builder, as a broker's log holds them. A real Kafka refuses such batches
// from a client: there its log cleaner compacts and a real transaction's
// coordinator writes the marker.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "corps/admin.hpp"
#include "corps/corps.hpp"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/run_command.hpp"
#include "support/wait.hpp"

namespace {

using namespace std::chrono_literals;

class OffsetJumps : public corps::testing::BrokerTest {
 protected:
  OffsetJumps() {
    registry_.bind<corps::proto::Prediction>("Values");
    create_topic("Values", 1);
  }

  void send(corps::Producer& producer, std::int64_t frame,
            std::optional<std::string> key = std::nullopt) {
    corps::proto::Prediction value;
    value.set_frame(frame);
    const auto report = producer.send("Values", value, {.key = std::move(key)}).get();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
  }

  // The record value corps writes for `frame`, in hex.
  std::string encoded_hex(std::int64_t frame) {
    corps::MessageHandler handler(registry_);
    corps::proto::Prediction value;
    value.set_frame(frame);
    const auto bytes = handler.encode("Values", value);
    std::string hex;
    for (unsigned char c : bytes->value.view()) {
      static constexpr char digits[] = "0123456789abcdef";
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    return hex;
  }

  // Writes a batch of `shape` with kafka-python; its first offset.
  std::int64_t write_batch(const std::string& shape, const std::vector<std::int64_t>& frames) {
    std::string command = "/usr/bin/python3 " CORPS_TEST_INTEROP_DIR "/offset_gaps.py --brokers " +
                          brokers() + " --topic Values " + shape;
    for (auto frame : frames) command += " " + encoded_hex(frame);
    const auto outcome = corps_tests::run_command(command);
    EXPECT_EQ(outcome.exit_code, 0) << command;
    return outcome.lines.empty() ? -1 : std::stoll(outcome.lines.back());
  }

  struct Read {
    std::vector<std::int64_t> offsets;
    std::vector<std::int64_t> frames;
    std::vector<corps::Error> failures;
  };

  // Reads with `consumer` until `count` records decoded, then a second more
  // to see whether anything else (a false loss) follows.
  static Read read(corps::Consumer& consumer, std::size_t count) {
    Read out;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::optional<std::chrono::steady_clock::time_point> settle;
    for (;;) {
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline || (settle && now > *settle)) break;
      auto record = consumer.poll(100ms);
      if (!record) continue;
      if (!record->ok()) {
        out.failures.push_back(record->error());
        continue;
      }
      out.offsets.push_back(record->offset());
      out.frames.push_back(record->as<corps::proto::Prediction>().frame());
      if (out.offsets.size() == count) settle = std::chrono::steady_clock::now() + 1s;
    }
    return out;
  }

  static std::string describe(const std::vector<corps::Error>& failures) {
    std::string out;
    for (const auto& failure : failures) out += failure.to_string() + "\n";
    return out;
  }
};

TEST_F(OffsetJumps, ACompactedBatchIsNotReportedAsLoss) {
  corps::Producer producer(registry_, producer_options());
  std::vector<std::int64_t> offsets;
  std::vector<std::int64_t> frames;
  if (on_real_kafka()) {
    // Kafka's own log cleaner: a compacted topic whose segments roll at
    // once, keys b and c written twice. Once the first segment is cleaned,
    // b's and c's first records (offsets 1 and 2) are gone.
    corps::Admin({.brokers = brokers()})
        .alter_topic_configs("Values", {{"cleanup.policy", "compact"},
                                        {"segment.ms", "100"},
                                        {"min.cleanable.dirty.ratio", "0.01"}});
    for (const auto& [frame, key] : std::vector<std::pair<std::int64_t, std::string>>{
             {0, "a"}, {1, "b"}, {2, "c"}, {3, "b"}, {4, "c"}}) {
      send(producer, frame, key);
    }
    std::this_thread::sleep_for(300ms);
    send(producer, 5, "d");  // in a new segment: the first may be cleaned
    offsets = {0, 3, 4, 5};
    frames = {0, 3, 4, 5};
    ASSERT_TRUE(corps_tests::wait_until(
        [&] {
          send(producer, 6, "e");  // rolls segments on, so the cleaner sees the first
          auto reader = consumer_options("", {"Values"});
          reader.start_offset = 0;
          corps::Consumer consumer(registry_, reader);
          const Read got = read(consumer, 4);
          return std::vector<std::int64_t>(got.offsets.begin(),
                                           got.offsets.begin() +
                                               std::min<std::size_t>(4, got.offsets.size())) ==
                 offsets;
        },
        60s, "the log cleaner compacted the first segment"));
  } else {
    send(producer, 0);
    send(producer, 1);
    // What compaction leaves of four records: offsets 2 and 5.
    ASSERT_EQ(write_batch("compacted", {2, 3}), 2);
    send(producer, 4);
    offsets = {0, 1, 2, 5, 6};
    frames = {0, 1, 2, 3, 4};
  }
  corps::Consumer consumer(registry_, consumer_options("compacted", {"Values"}));
  Read got = read(consumer, offsets.size());
  EXPECT_TRUE(got.failures.empty()) << describe(got.failures);
  got.offsets.resize(std::min(got.offsets.size(), offsets.size()));
  got.frames.resize(std::min(got.frames.size(), frames.size()));
  EXPECT_EQ(got.offsets, offsets);
  EXPECT_EQ(got.frames, frames);
}

TEST_F(OffsetJumps, ATransactionMarkerIsNotReportedAsLoss) {
  corps::Producer producer(registry_, producer_options());
  send(producer, 0);
  send(producer, 1);
  std::vector<std::int64_t> offsets;
  if (on_real_kafka()) {
    // A real transaction: its record at 2, the coordinator's commit marker
    // at 3.
    ASSERT_EQ(write_batch("committed", {2}), 2);
    send(producer, 3);
    offsets = {0, 1, 2, 4};
  } else {
    ASSERT_EQ(write_batch("marker", {}), 2);
    send(producer, 2);
    offsets = {0, 1, 3};
  }
  for (const std::string group : {"marker", ""}) {
    SCOPED_TRACE(group.empty() ? "without a group" : "in a group");
    corps::Consumer consumer(registry_, consumer_options(group, {"Values"}));
    const Read got = read(consumer, offsets.size());
    EXPECT_TRUE(got.failures.empty()) << describe(got.failures);
    EXPECT_EQ(got.offsets, offsets);
  }
}

// The group starts at the end while records keep arriving: where the end is
// when it gets there is not a loss of the records before.
TEST_F(OffsetJumps, StartingAtTheEndWhileRecordsArriveReportsNoLoss) {
  std::atomic<bool> sending{true};
  std::atomic<std::int64_t> sent{0};
  std::thread sender([&] {
    corps::Producer producer(registry_, producer_options());
    while (sending) {
      corps::proto::Prediction value;
      value.set_frame(sent++);
      producer.send("Values", value, {}, [](const corps::DeliveryReport&) {});
      std::this_thread::sleep_for(2ms);
    }
    (void)producer.flush(10s);
  });
  if (!corps_tests::wait_until([&] { return sent.load() >= 200; }, 30s, "200 records sent")) {
    sending = false;
    sender.join();
    return;
  }
  auto options = consumer_options("latest", {"Values"});
  options.start_from = corps::StartFrom::latest;
  corps::Consumer consumer(registry_, options);
  const Read got = read(consumer, 100);
  sending = false;
  sender.join();
  EXPECT_TRUE(got.failures.empty()) << describe(got.failures);
  EXPECT_GE(got.offsets.size(), 100U);
  EXPECT_GT(got.frames.front(), 0) << "started at the end, not the beginning";
  for (std::size_t i = 1; i < got.offsets.size(); ++i) {
    EXPECT_EQ(got.offsets[i], got.offsets[i - 1] + 1);
  }
}

}  // namespace
