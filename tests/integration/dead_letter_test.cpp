// Dead-letter routing in Consumer::run and poll: every record that cannot be
// decoded or handled ends up on the dead-letter channel, whole, before its
// offset is committed; the records after it keep flowing; and replay sends
// the letters back.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <iostream>
#include <numeric>
#include <random>
#include <thread>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/hostile_values.hpp"
#include "support/run_command.hpp"
#include "support/watchdog.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::RawValue;

using corps_tests::Watchdog;

std::string sha256_hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr), 1);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    static constexpr char digits[] = "0123456789abcdef";
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

std::string noise_of(std::size_t bytes, unsigned seed) {
  std::mt19937 random(seed);
  std::string noise(bytes, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  return noise;
}

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
    return std::string(handler_->encode("VideoStream", image)->value.view());
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

// Those that inject the embedded broker's faults: there alone.
class MockDeadLetters : public DeadLetters {};

TEST_F(DeadLetters, EveryHostileInputBecomesALetterAndTheNextRecordFlows) {
  std::mt19937 random(7);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = static_cast<char>(random());
  corps::proto::Prediction prediction;
  prediction.set_frame(99);
  corps::ChannelRegistry other;
  other.bind<corps::proto::Prediction>("Predictions");
  const std::string prediction_value(
      corps::MessageHandler(other).encode("Predictions", prediction)->value.view());
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
    EXPECT_GT(letter.failed_at(), 0);
    // Headers past the limits are refused before they are copied: the
    // record, and so its letter, keeps none (its error says how many).
    const bool headers_refused = hostile[i].stage == corps::Stage::headers;
    const std::size_t kept_headers = headers_refused ? 0 : raw.headers.size();
    std::size_t header_bytes = 0;
    for (std::size_t h = 0; h < kept_headers; ++h) {
      header_bytes += raw.headers[h].name.size() + raw.headers[h].value->size();
    }
    // Past DeadLetterOptions::max_letter_bytes (1 MB) the letter says what
    // the record held instead of holding it (the bomb).
    const std::size_t raw_bytes = raw.value.value_or("").size() + header_bytes;
    EXPECT_EQ(letter.truncated(), raw_bytes > 1'000'000) << raw_bytes << " bytes";
    if (letter.truncated()) {
      EXPECT_EQ(letter.value_size(), static_cast<std::int64_t>(raw.value.value_or("").size()));
      EXPECT_EQ(letter.value_sha256(), sha256_hex(raw.value.value_or("")));
      EXPECT_EQ(letter.header_count(), static_cast<int>(kept_headers));
      EXPECT_EQ(letter.header_bytes(), static_cast<std::int64_t>(header_bytes));
    } else {
      EXPECT_TRUE(letter.value() == raw.value.value_or("")) << "the raw value is kept whole";
      EXPECT_EQ(letter.headers_size(), static_cast<int>(kept_headers));
    }
    if (headers_refused) {
      EXPECT_NE(letter.error().find(std::to_string(raw.headers.size() > 1 ? raw.headers.size()
                                                                          : std::size_t{2097156})),
                std::string::npos)
          << "the letter says what the headers were";
    }
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
    EXPECT_EQ(status.error().location(), (corps::RecordLocation{"VideoStream", 0, 1}));
    EXPECT_NE(status.error().message().find("uncommitted"), std::string::npos)
        << status.error().to_string();
  }
  EXPECT_EQ(handled, (std::vector<int>{0}));
  // Not skipped: the group resumes at the bad record.
  EXPECT_EQ(committed("strict"), 1);
}

// CommitMode::automatic is at-most-once (MessageCorps's behaviour): offsets
// are stored as records are fetched, so the record run() stops at is
// committed anyway. The README says so; this pins it.
TEST_F(DeadLetters, InAutomaticCommitModeTheRecordRunStopsAtIsCommittedAnyway) {
  corps::testing::produce_raw(brokers(), "VideoStream",
                              {{good(0)}, {std::string("not zlib")}, {good(2)}});
  {
    auto options = consumer_options("automatic", {"VideoStream"});
    options.commit_mode = corps::CommitMode::automatic;
    corps::Consumer consumer(registry_, options);
    Watchdog watchdog(consumer, 60s);
    const auto status = consumer.run([](const corps::Record&) {});
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().location(), (corps::RecordLocation{"VideoStream", 0, 1}));
  }
  EXPECT_EQ(committed("automatic"), 2);
}

TEST_F(MockDeadLetters, AFailedDeadLetterWriteLeavesTheRecordUncommitted) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{good(0)}, {std::string("bad")}});
  // The next produce request (the dead letter's) is refused for good.
  broker().push_request_errors(corps::KafkaApi::produce,
                               {corps::KafkaError::topic_authorization_failed});
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
                              {{std::string(handler_->encode("VideoStream", big)->value.view())}});
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

// A header name and a codec name that are not UTF-8: the letter must still
// parse (proto3 strings refuse anything else), and replay must put the exact
// bytes back.
TEST_F(DeadLetters, ALetterOfHostileHeaderBytesReadsBackAndReplaysThemExactly) {
  const std::string name("\xc3\x28", 2);
  const std::string codec("\xff", 1);
  corps::testing::produce_raw(
      brokers(), "VideoStream",
      {{good(0), std::nullopt, {{name, std::string("x")}, {"corps-codec", codec}}}});
  std::int64_t timestamp = -1;
  {
    corps::Consumer consumer(registry_, routed("hostile-bytes"));
    const auto received = corps::testing::consume(consumer, 1);
    ASSERT_EQ(received.size(), 1U);
    ASSERT_FALSE(received[0].ok());
    EXPECT_EQ(received[0].error().stage(), corps::Stage::decompress);
    timestamp = received[0].timestamp_ms();
    ASSERT_TRUE(consumer.commit().ok());
  }
  const auto written = letters();
  ASSERT_EQ(written.size(), 1U);
  const auto& letter = written[0];
  EXPECT_EQ(letter.timestamp_ms(), timestamp);
  EXPECT_GT(letter.timestamp_ms(), 0);
  ASSERT_EQ(letter.headers_size(), 2);
  EXPECT_EQ(letter.headers(0).name(), "\xEF\xBF\xBD(") << "a byte that is not UTF-8 becomes U+FFFD";
  EXPECT_EQ(letter.headers(0).name_bytes(), name);
  EXPECT_EQ(corps::header_name(letter.headers(0)), name);
  EXPECT_EQ(letter.headers(1).value(), codec);

  corps::ReplayOptions options;
  options.brokers = brokers();
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_EQ(replay->replayed, 1U);
  EXPECT_TRUE(replay->failures.empty());
  corps::Consumer reader(registry_, consumer_options("", {"VideoStream"}));
  const auto records = corps::testing::consume(reader, 2);
  ASSERT_EQ(records.size(), 2U);
  ASSERT_GE(records[1].headers().size(), 2U);
  EXPECT_EQ(records[1].headers()[0].name, name);
  EXPECT_EQ(records[1].headers()[1].value, codec);
}

// A letter larger than its channel takes is written without the record's
// bytes, saying what they were: the group goes on, it does not halt.
TEST_F(DeadLetters, ALetterTooLargeForItsChannelIsTruncatedNotRefused) {
  const std::string noise = noise_of(300'000, 11);
  corps::testing::produce_raw(brokers(), "VideoStream",
                              {{noise, std::string("k"), {{"h", std::string("v")}}}, {good(1)}});
  auto options = routed("too-large");
  options.dead_letters->max_letter_bytes = 100'000;
  {
    corps::Consumer consumer(registry_, options);
    EXPECT_EQ(run_until(consumer, 1), (std::vector<int>{1}));
    ASSERT_TRUE(consumer.commit().ok());
  }
  EXPECT_EQ(committed("too-large"), 2);
  const auto written = letters();
  ASSERT_EQ(written.size(), 1U);
  const auto& letter = written[0];
  EXPECT_TRUE(letter.truncated());
  EXPECT_EQ(letter.offset(), 0);
  EXPECT_EQ(letter.stage(), "decompress");
  EXPECT_TRUE(letter.value().empty());
  EXPECT_EQ(letter.value_size(), 300'000);
  EXPECT_EQ(letter.value_sha256(), sha256_hex(noise));
  EXPECT_EQ(letter.key_size(), 1);
  EXPECT_EQ(letter.header_count(), 1);
  EXPECT_EQ(letter.header_bytes(), 2);
  // Replay cannot send what the letter does not hold, and says where it is.
  corps::ReplayOptions replay_options;
  replay_options.brokers = brokers();
  const auto replay = corps::replay_dead_letters(replay_options);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->replayed, 0U);
  ASSERT_EQ(replay->failures.size(), 1U);
  EXPECT_NE(replay->failures[0].message().find("VideoStream[0]@0"), std::string::npos)
      << replay->failures[0].to_string();
}

// A handler whose error message alone is larger than the channel takes: the
// truncated letter keeps the message's start, and is written.
TEST_F(DeadLetters, AHandlersHugeErrorMessageStillLeavesALetter) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{good(0)}, {good(1)}});
  {
    corps::Consumer consumer(registry_, routed("huge-error"));
    const auto handled = run_until(consumer, 1, [](int frame) {
      if (frame == 0) throw std::runtime_error(std::string(3'000'000, 'e'));
    });
    EXPECT_EQ(handled, (std::vector<int>{1}));
    ASSERT_TRUE(consumer.commit().ok());
  }
  EXPECT_EQ(committed("huge-error"), 2);
  const auto written = letters();
  ASSERT_EQ(written.size(), 1U);
  EXPECT_TRUE(written[0].truncated());
  EXPECT_LT(written[0].error().size(), 20'000U);
  EXPECT_NE(written[0].error().find("more bytes"), std::string::npos);
}

TEST_F(MockDeadLetters, ALetterTheBrokerRefusesAsTooLargeIsWrittenTruncated) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{std::string("bad")}, {good(1)}});
  broker().push_request_errors(corps::KafkaApi::produce, {corps::KafkaError::message_too_large});
  {
    corps::Consumer consumer(registry_, routed("refused-size"));
    EXPECT_EQ(run_until(consumer, 1), (std::vector<int>{1}));
    ASSERT_TRUE(consumer.commit().ok());
  }
  EXPECT_EQ(committed("refused-size"), 2);
  const auto written = letters();
  ASSERT_EQ(written.size(), 1U);
  EXPECT_TRUE(written[0].truncated());
  EXPECT_EQ(written[0].value_size(), 3);
}

// The consumer reaches its cluster through a property (as a secured cluster
// needs its security properties): the letters and the replay must too.
TEST_F(DeadLetters, LettersAndReplayUseTheConsumersLibrdkafkaProperties) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{std::string("bad")}, {good(1)}});
  auto options = routed("through-properties");
  options.brokers = "127.0.0.1:9";  // nothing listens there
  options.properties["bootstrap.servers"] = brokers();
  options.dead_letters->write_timeout = 5s;
  {
    corps::Consumer consumer(registry_, options);
    const auto received = corps::testing::consume(consumer, 2);
    ASSERT_EQ(received.size(), 2U);
    ASSERT_FALSE(received[0].ok());
    EXPECT_EQ(received[0].error().stage(), corps::Stage::decompress)
        << "the letter was not written: " << received[0].error().to_string();
  }
  EXPECT_EQ(letters().size(), 1U);

  corps::ReplayOptions replay_options;
  replay_options.brokers = "127.0.0.1:9";
  replay_options.properties["bootstrap.servers"] = brokers();
  replay_options.timeout = 20s;
  const auto replay = corps::replay_dead_letters(replay_options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_EQ(replay->replayed, 1U);
}

// A transaction's marker takes the channel's last offset and no consumer
// ever sees it: replay must know the end when it gets there.
TEST_F(DeadLetters, ReplayFinishesWhenTheChannelEndsInATransactionMarker) {
  corps::testing::produce_raw(brokers(), "VideoStream", {{std::string("bad")}, {good(1)}});
  {
    corps::Consumer consumer(registry_, routed("marker"));
    ASSERT_EQ(corps::testing::consume(consumer, 2).size(), 2U);
  }
  // A real Kafka writes markers only for real transactions: an aborted one
  // ends the channel with its marker, and its record is never read.
  const auto marker = corps_tests::run_command(
      "/usr/bin/python3 " CORPS_TEST_INTEROP_DIR "/offset_gaps.py --brokers " + brokers() +
      " --topic DeadLetters " + (on_real_kafka() ? "aborted 00" : "marker"));
  ASSERT_EQ(marker.exit_code, 0);
  corps::ReplayOptions options;
  options.brokers = brokers();
  options.timeout = 15s;
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_TRUE(replay->reached_end);
  EXPECT_EQ(replay->replayed, 1U);
  EXPECT_TRUE(replay->failures.empty()) << replay->failures.front().to_string();
}

TEST_F(DeadLetters, ReplaySendsEachRecordBackToThePartitionItCameFrom) {
  registry_.bind<corps::proto::Image>("Spread");
  create_topic("Spread", 3);
  std::vector<RawValue> bad;
  for (int i = 0; i < 9; ++i) {
    bad.push_back({std::string("bad-") + std::to_string(i), std::nullopt, {}, i % 3});
  }
  corps::testing::produce_raw(brokers(), "Spread", bad);
  {
    auto options = routed("spread");
    options.channels = {"Spread"};
    corps::Consumer consumer(registry_, options);
    ASSERT_EQ(corps::testing::consume(consumer, 9).size(), 9U);
  }
  corps::ReplayOptions options;
  options.brokers = brokers();
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->replayed, 9U);
  corps::Consumer reader(registry_, consumer_options("", {"Spread"}));
  int replayed = 0;
  for (const auto& record : corps::testing::consume(reader, 18)) {
    if (corps::find_header(record.headers(), corps::replayed_from_header) == nullptr) continue;
    ++replayed;
    const int sent_to = std::stoi(std::string(record.value()->substr(4))) % 3;
    EXPECT_EQ(record.partition(), sent_to) << *record.value();
  }
  EXPECT_EQ(replayed, 9);
}

TEST_F(DeadLetters, ReplayOfOneChannelReplaysEveryLetterOfItWhateverComesBetween) {
  registry_.bind<corps::proto::Image>("Spread");
  create_topic("Spread", 1);
  corps::testing::produce_raw(brokers(), "Spread", {{std::string("bad")}});
  corps::testing::produce_raw(brokers(), "VideoStream",
                              {{std::string("bad")}, {std::string("worse")}});
  for (const std::string channel : {"Spread", "VideoStream"}) {
    auto options = routed("only-" + channel);
    options.channels = {channel};
    corps::Consumer consumer(registry_, options);
    ASSERT_FALSE(corps::testing::consume(consumer, 1).empty());
    if (channel == "VideoStream") ASSERT_EQ(corps::testing::consume(consumer, 1).size(), 1U);
  }
  ASSERT_EQ(letters().size(), 3U);  // Spread's first, then VideoStream's two
  corps::ReplayOptions options;
  options.brokers = brokers();
  options.only_channel = "VideoStream";
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_EQ(replay->skipped, 1U);
  EXPECT_EQ(replay->replayed, 2U);
  EXPECT_TRUE(replay->reached_end);
}

// A dead-letter channel of two partitions, replayed from offset 5: the first
// holds only offsets 0 and 1, so nothing of it is replayed, even once the
// reader, told to start past its end, reads it from its beginning.
TEST_F(DeadLetters, ReplayReadsEachPartitionOnlyFromItsStartToItsEnd) {
  create_topic("Letters", 2);
  corps::ChannelRegistry letters_registry;
  letters_registry.bind<corps::proto::DeadLetter>("Letters");
  corps::MessageHandler letter_handler(letters_registry);
  const auto letter_value = [&](int frame) {
    corps::proto::DeadLetter letter;
    letter.set_topic("VideoStream");
    letter.set_value(good(frame));
    letter.set_stage("handler");
    letter.set_code("handler_failed");
    return std::string(letter_handler.encode("Letters", letter)->value.view());
  };
  corps::testing::produce_raw(
      brokers(), "Letters",
      {{letter_value(0), std::nullopt, {}, 0}, {letter_value(1), std::nullopt, {}, 0}});
  std::vector<RawValue> second;
  for (int frame = 10; frame < 20; ++frame)
    second.push_back({letter_value(frame), std::nullopt, {}, 1});
  corps::testing::produce_raw(brokers(), "Letters", second);
  corps::ReplayOptions options;
  options.brokers = brokers();
  options.dead_letter_channel = "Letters";
  options.from_offset = 5;
  options.to_channel = "VideoStream";
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  EXPECT_EQ(replay->read, 5U);
  EXPECT_EQ(replay->replayed, 5U);
  corps::Consumer reader(registry_, consumer_options("", {"VideoStream"}));
  const auto end = reader.watermarks({"VideoStream", 0}, 10s);
  ASSERT_TRUE(end.ok());
  ASSERT_EQ(end->second, 5) << "letters of the first partition were replayed";
  std::vector<int> frames;
  for (const auto& record : corps::testing::consume(reader, 5)) {
    frames.push_back(record.as<corps::proto::Image>().frame());
  }
  EXPECT_EQ(frames, (std::vector<int>{15, 16, 17, 18, 19}));
}

// Replays onto a channel whose broker answers slowly, with too little time:
// every letter is counted for what became of it. One counted as not replayed
// must not arrive; every one that arrives was counted replayed or unconfirmed.
class MockSlowReplay : public corps::testing::BrokerTest {
 protected:
  MockSlowReplay() : BrokerTest(corps::EmbeddedBrokerOptions{.broker_count = 2, .topics = {}}) {
    registry_.bind<corps::proto::Image>("VideoStream");
    create_topic("VideoStream", 1);
    create_topic("DeadLetters", 1);
    broker().set_partition_leader("VideoStream", 0, 2);
    broker().set_partition_leader("DeadLetters", 0, 1);
  }
};

TEST_F(MockSlowReplay, EveryLetterIsCountedForWhatBecameOfIt) {
  constexpr int count = 5;
  std::vector<RawValue> bad;
  for (int i = 0; i < count; ++i) bad.push_back({std::string("bad")});
  corps::testing::produce_raw(brokers(), "VideoStream", bad);
  {
    auto options = consumer_options("slow", {"VideoStream"});
    options.dead_letters.emplace();
    corps::Consumer consumer(registry_, options);
    ASSERT_EQ(corps::testing::consume(consumer, count).size(), static_cast<std::size_t>(count));
  }
  // VideoStream's leader answers each request (connecting, then producing)
  // 1.5 s late: the answers to the replayed records come around the end of
  // the replay's time, some before, some after.
  broker().set_round_trip_time(2, 1500ms);
  corps::ReplayOptions options;
  options.brokers = brokers();
  options.timeout = 3s;
  const auto replay = corps::replay_dead_letters(options);
  ASSERT_TRUE(replay.ok()) << replay.error().to_string();
  std::size_t not_replayed = 0;
  for (const auto& failure : replay->failures) not_replayed += failure.location().has_value();
  not_replayed -= replay->unconfirmed;
  std::cout << "[ replay   ] replayed " << replay->replayed << ", unconfirmed "
            << replay->unconfirmed << ", not replayed " << not_replayed << "\n";
  EXPECT_EQ(replay->replayed + replay->unconfirmed + not_replayed, static_cast<std::size_t>(count));
  broker().set_round_trip_time(2, 0ms);
  std::this_thread::sleep_for(4s);  // anything still on its way arrives
  corps::Consumer reader(registry_, consumer_options("", {"VideoStream"}));
  const auto end = reader.watermarks({"VideoStream", 0}, 10s);
  ASSERT_TRUE(end.ok());
  const auto arrived = static_cast<std::size_t>(end->second - count);
  EXPECT_GE(arrived, replay->replayed);
  EXPECT_LE(arrived, replay->replayed + replay->unconfirmed)
      << arrived << " replayed records arrived, but the report counts " << replay->replayed
      << " replayed and " << replay->unconfirmed << " unconfirmed";
}

}  // namespace
