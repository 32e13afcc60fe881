// Dead-letter routing in Consumer::run and poll: every record that cannot be
// decoded or handled ends up on the dead-letter channel, whole, before its
// offset is committed; the records after it keep flowing; and replay sends
// the letters back.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <numeric>
#include <random>
#include <thread>

#include "corps/corps.hpp"
#include "corps/testing/broker_test.hpp"
#include "support/hostile_values.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::RawValue;

using corps_tests::Watchdog;

class DeadLetters : public corps::testing::BrokerTest {
 protected:
  DeadLetters() {
    registry_.bind<corps::proto::Image>("VideoStream");
    create_topic("VideoStream", 1);
    create_topic("DeadLetters", 1);
    handler_.emplace(registry_);
  }

  std::string good(int frame) {
    corps::proto::Image image;
    image.set_frame(frame);
    return std::string(handler_->encode("VideoStream", image)->view());
  }

  corps::ConsumerOptions routed(std::string group) const {
    auto options = consumer_options(std::move(group), {"VideoStream"});
    options.dead_letters.emplace();
    options.dead_letters->service = "dead-letter-test";
    options.retry.initial_backoff = 10ms;
    return options;
  }

  // Every letter on the dead-letter channel.
  std::vector<corps::proto::DeadLetter> letters() const {
    corps::ChannelRegistry registry;
    registry.bind<corps::proto::DeadLetter>("DeadLetters");
    auto options = consumer_options("", {"DeadLetters"});
    corps::Consumer reader(registry, options);
    const auto end = reader.watermarks({"DeadLetters", 0}, 10s)->second;
    std::vector<corps::proto::DeadLetter> out;
    for (auto& record : corps::testing::consume(reader, static_cast<std::size_t>(end), 20s)) {
      EXPECT_TRUE(record.ok()) << record.error().to_string();
      if (record.ok()) out.push_back(record.as<corps::proto::DeadLetter>());
    }
    return out;
  }

  std::int64_t committed(const std::string& group) const {
    return corps::testing::committed_offset(brokers(), group, "VideoStream", 0);
  }

  // Runs a routed consumer of `group` until `frames` frames were handled.
  std::vector<int> run_until(corps::Consumer& consumer, std::size_t frames,
                             const std::function<void(int)>& also = {}) {
    std::vector<int> handled;
    Watchdog watchdog(consumer, 60s);
    const auto status = consumer.run([&](const corps::Record& record) {
      const int frame = record.as<corps::proto::Image>().frame();
      if (also) also(frame);
      handled.push_back(frame);
      if (handled.size() == frames) consumer.stop();
    });
    EXPECT_TRUE(status.ok()) << status.error().to_string();
    return handled;
  }

  std::optional<corps::MessageHandler> handler_;
};

TEST_F(DeadLetters, EveryHostileInputBecomesALetterAndTheNextRecordFlows) {
  std::mt19937 random(7);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  corps::proto::Prediction prediction;
  prediction.set_frame(99);
  corps::ChannelRegistry other;
  other.bind<corps::proto::Prediction>("Predictions");
  const std::string prediction_value(
      corps::MessageHandler(other).encode("Predictions", prediction)->view());
  corps::proto::Image unstamped;
  unstamped.set_frame(98);
  corps::Headers thousands;
  for (int i = 0; i < 5000; ++i) thousands.push_back({"h" + std::to_string(i), "v"});
  const corps::Headers huge{{"huge", std::string(2 << 20, 'x')}};

  struct Case {
    RawValue raw;
    corps::Stage stage;
    corps::Errc code;
  };
  const std::string frame = good(1000);
  const std::vector<Case> hostile{
      {{noise}, corps::Stage::decompress, corps::Errc::corrupt_data},
      {{frame.substr(0, frame.size() / 2)}, corps::Stage::decompress, corps::Errc::truncated_data},
      {{frame + "tail"}, corps::Stage::decompress, corps::Errc::trailing_data},
      {{corps_tests::zeros_stream(std::size_t{1} << 30)},
       corps::Stage::decompress,
       corps::Errc::too_large},
      {{prediction_value, std::nullopt, {{"corps-type", "corps.proto.Prediction"}}},
       corps::Stage::type,
       corps::Errc::type_mismatch},
      {{corps_tests::zlib_of(unstamped.SerializeAsString())},
       corps::Stage::metadata,
       corps::Errc::missing_metadata},
      {{std::string()}, corps::Stage::decompress, corps::Errc::empty_value},
      {{std::nullopt}, corps::Stage::decompress, corps::Errc::empty_value},
      {{frame, std::nullopt, thousands}, corps::Stage::headers, corps::Errc::too_large},
      {{frame, std::nullopt, huge}, corps::Stage::headers, corps::Errc::too_large},
  };
  // good 0, hostile 0, good 1, hostile 1, ..., good N
  std::vector<RawValue> records;
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    records.push_back({good(static_cast<int>(i))});
    records.push_back(hostile[i].raw);
  }
  records.push_back({good(static_cast<int>(hostile.size()))});
  corps::testing::produce_raw(brokers(), "VideoStream", records);

  corps::Consumer consumer(registry_, routed("hostile"));
  const auto handled = run_until(consumer, hostile.size() + 1);
  ASSERT_TRUE(consumer.commit().ok());
  std::vector<int> expected(hostile.size() + 1);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(handled, expected);
  EXPECT_EQ(committed("hostile"), static_cast<std::int64_t>(records.size()));

  const auto written = letters();
  ASSERT_EQ(written.size(), hostile.size());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const auto& letter = written[i];
    const auto& raw = hostile[i].raw;
    SCOPED_TRACE("hostile record " + std::to_string(i) + ": " + letter.error());
    EXPECT_EQ(letter.topic(), "VideoStream");
    EXPECT_EQ(letter.partition(), 0);
    EXPECT_EQ(letter.offset(), static_cast<std::int64_t>(2 * i + 1));
    EXPECT_EQ(letter.stage(), corps::to_string(hostile[i].stage));
    EXPECT_EQ(letter.code(), corps::to_string(hostile[i].code));
    EXPECT_EQ(letter.attempts(), 1);
    EXPECT_EQ(letter.consumer_group(), "hostile");
    EXPECT_EQ(letter.service(), "dead-letter-test");
    EXPECT_EQ(letter.null_value(), !raw.value.has_value());
    EXPECT_TRUE(letter.value() == raw.value.value_or("")) << "the raw value is kept whole";
    EXPECT_EQ(letter.headers_size(), static_cast<int>(raw.headers.size()));
    EXPECT_GT(letter.failed_at(), 0);
  }
}

TEST_F(DeadLetters, AHandlerThatKeepsFailingIsRetriedWithBackoffThenDeadLettered) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{good(0)}, {good(1)}, {good(2)}});
  auto options = routed("retries");
  options.retry.max_attempts = 4;
  options.retry.initial_backoff = 50ms;
  corps::Consumer consumer(registry_, options);
  std::vector<std::chrono::steady_clock::time_point> calls_on_1;
  const auto handled = run_until(consumer, 2, [&](int frame) {
    if (frame != 1) return;
    calls_on_1.push_back(std::chrono::steady_clock::now());
    throw std::runtime_error("the database refused frame 1");
  });
  ASSERT_TRUE(consumer.commit().ok());
  EXPECT_EQ(handled, (std::vector<int>{0, 2}));
  ASSERT_EQ(calls_on_1.size(), 4u);
  // Backoff doubles: 50, 100, 200 ms between the attempts.
  EXPECT_GE(calls_on_1[3] - calls_on_1[0], 350ms);
  EXPECT_EQ(committed("retries"), 3);
  const auto written = letters();
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].offset(), 1);
  EXPECT_EQ(written[0].stage(), "handler");
  EXPECT_EQ(written[0].code(), "handler_failed");
  EXPECT_EQ(written[0].attempts(), 4);
  EXPECT_NE(written[0].error().find("the database refused frame 1"), std::string::npos);
}

TEST_F(DeadLetters, AHandlerThatRecoversOnRetryWritesNoLetter) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{good(0)}, {good(1)}});
  corps::Consumer consumer(registry_, routed("recovers"));
  int failures_left = 2;
  const auto handled = run_until(consumer, 2, [&](int frame) {
    if (frame == 1 && failures_left-- > 0) throw std::runtime_error("flaky");
  });
  EXPECT_EQ(handled, (std::vector<int>{0, 1}));
  EXPECT_TRUE(letters().empty());
}

TEST_F(DeadLetters, WithoutADeadLetterChannelRunStopsAtTheBadRecordAndKeepsIt) {
  corps::testing::produce_raw(brokers(), "VideoStream",
                              {{good(0)}, {std::string("not zlib")}, {good(2)}});
  std::vector<int> handled;
  {
    corps::Consumer consumer(registry_, consumer_options("strict", {"VideoStream"}));
    Watchdog watchdog(consumer, 60s);
    const auto status = consumer.run([&](const corps::Record& record) {
      handled.push_back(record.as<corps::proto::Image>().frame());
    });
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().stage(), corps::Stage::decompress);
    EXPECT_EQ(status.error().where(), (corps::RecordLocation{"VideoStream", 0, 1}));
    EXPECT_NE(status.error().message().find("uncommitted"), std::string::npos)
        << status.error().to_string();
  }
  EXPECT_EQ(handled, (std::vector<int>{0}));
  // Not skipped: the group resumes at the bad record.
  EXPECT_EQ(committed("strict"), 1);
}

TEST_F(DeadLetters, AFailedDeadLetterWriteLeavesTheRecordUncommitted) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{good(0)}, {std::string("bad")}});
  // The next produce request (the dead letter's) is refused for good.
  broker().push_request_errors(corps::KafkaApi::produce,
                               {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED});
  {
    corps::Consumer consumer(registry_, routed("refused"));
    Watchdog watchdog(consumer, 60s);
    const auto status = consumer.run([](const corps::Record&) {});
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().stage(), corps::Stage::dead_letter) << status.error().to_string();
    EXPECT_EQ(status.error().severity(), corps::Severity::permanent);
  }
  EXPECT_EQ(committed("refused"), 1);
  EXPECT_TRUE(letters().empty());
  // Once the channel accepts letters again, the same record is routed.
  corps::Consumer again(registry_, routed("refused"));
  {
    Watchdog enough_to_join_and_route(again, 8s);
    ASSERT_TRUE(again.run([](const corps::Record&) {}).ok());
  }
  ASSERT_TRUE(again.commit().ok());
  EXPECT_EQ(letters().size(), 1u);
  EXPECT_EQ(committed("refused"), 2);
}

TEST_F(DeadLetters, PollWritesTheLetterBeforeReturningTheFailedRecord) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{std::string("bad")}, {good(1)}});
  corps::Consumer consumer(registry_, routed("polling"));
  const auto received = corps::testing::consume(consumer, 2);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_FALSE(received[0].ok());
  EXPECT_EQ(received[0].error().stage(), corps::Stage::decompress);
  EXPECT_TRUE(received[1].ok());
  EXPECT_EQ(letters().size(), 1u);
}

TEST_F(DeadLetters, ReplaySendsLettersBackByteForByte) {
  const std::string frame = good(1);
  corps::testing::produce_raw(
      brokers(), "VideoStream",
      {{good(0)}, {frame, std::string("key-1"), {{"trace", "t-1"}}}, {good(2)}});
  {
    corps::Consumer consumer(registry_, routed("replay"));
    (void)run_until(consumer, 2, [](int frame_number) {
      if (frame_number == 1) throw std::runtime_error("not yet");
    });
  }
  ASSERT_EQ(letters().size(), 1u);

  corps::ReplayOptions options;
  options.brokers = brokers();
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_EQ(replay->read, 1u);
  EXPECT_EQ(replay->replayed, 1u);
  EXPECT_TRUE(replay->failures.empty());

  // The handler is fixed: the replayed record (offset 3) is handled.
  corps::Consumer consumer(registry_, consumer_options("after-replay", {"VideoStream"}));
  const auto records = corps::testing::consume(consumer, 4);
  ASSERT_EQ(records.size(), 4u);
  const auto& replayed = records[3];
  ASSERT_TRUE(replayed.ok()) << replayed.error().to_string();
  EXPECT_EQ(replayed.as<corps::proto::Image>().frame(), 1);
  EXPECT_EQ(*replayed.value(), frame);
  EXPECT_EQ(*replayed.key(), "key-1");
  const auto* from = corps::find_header(replayed.headers(), corps::replayed_from_header);
  ASSERT_NE(from, nullptr);
  EXPECT_EQ(*from->value, "DeadLetters[0]@0");
  ASSERT_NE(corps::find_header(replayed.headers(), "trace"), nullptr);

  // A second replay from the letter after it finds nothing new.
  options.from_offset = 1;
  const auto again = corps::replay_dead_letters(options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->read, 0u);
}

TEST_F(DeadLetters, ARecordTooLargeToFetchIsReportedNotAStall) {
  corps::proto::Image big;
  std::mt19937 random(3);
  std::string noise(30000, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  big.set_image_data(noise);
  corps::testing::produce_raw(brokers(), "VideoStream",
                              {{std::string(handler_->encode("VideoStream", big)->view())}});
  auto options = consumer_options("", {"VideoStream"});
  options.max_record_bytes = 5000;
  corps::Consumer consumer(registry_, options);
  const auto received = corps::testing::consume(consumer, 1, 20s);
  ASSERT_EQ(received.size(), 1u) << "the consumer stalled without a word";
  ASSERT_FALSE(received[0].ok());
  EXPECT_EQ(received[0].error().stage(), corps::Stage::consume);
  EXPECT_EQ(received[0].error().code(), corps::Errc::too_large);
  EXPECT_NE(received[0].error().message().find("max_record_bytes (5000 B)"), std::string::npos)
      << received[0].error().to_string();
}

TEST(RecordLimits, AProducerAllowedLargerRecordsThanItsConsumersFetchIsRefused) {
  corps::ProducerOptions producer;
  corps::ConsumerOptions consumer;
  EXPECT_TRUE(corps::check_record_limits(producer, consumer).ok());
  producer.max_record_bytes = std::size_t{64} << 20;
  const auto refused = corps::check_record_limits(producer, consumer);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), corps::Errc::too_large);
  EXPECT_NE(refused.error().message().find("67108864"), std::string::npos);
  EXPECT_NE(refused.error().message().find("52428800"), std::string::npos);
}

TEST_F(DeadLetters, AConsumerCannotReadItsOwnDeadLetterChannel) {
  auto options = routed("loop");
  options.dead_letters->channel = "VideoStream";
  try {
    corps::Consumer consumer(registry_, options);
    FAIL() << "a consumer of its own dead letters was accepted";
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("loop"), std::string::npos) << e.what();
  }
}

}  // namespace
