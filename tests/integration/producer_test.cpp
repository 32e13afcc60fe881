#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"
#include "support/expect.hpp"
#include "support/hang_guard.hpp"

namespace {

using namespace std::chrono_literals;

using corps_tests::error_of;
using corps_tests::HangGuard;

// An Image with `bytes` of data that deflate does not shrink much, so the
// compression threads have work to do.
corps::proto::Image noisy_image(std::int64_t frame, std::size_t bytes) {
  corps::proto::Image image;
  image.set_frame(frame);
  std::string data(bytes, '\0');
  std::uint32_t state = static_cast<std::uint32_t>(frame) * 2654435761U + 1;
  for (auto& c : data) {
    state = state * 1664525U + 1013904223U;
    c = static_cast<char>(state >> 24);
  }
  image.set_image_data(std::move(data));
  return image;
}

class ProducerTest : public corps::testing::BrokerTest {
 protected:
  ProducerTest() {
    registry_.bind<corps::proto::Image>("VideoStream");
    registry_.bind<corps::proto::Prediction>("Predictions");
    create_topic("VideoStream");
  }
};
// Those that drive the embedded broker's faults: there alone.
class MockProducerTest : public ProducerTest {};


TEST_F(ProducerTest, RefusesAnUnboundChannelAtSend) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  const auto error = error_of([&] { (void)producer.send("Frames", image); });
  EXPECT_EQ(error.code(), corps::Errc::unknown_channel);
  EXPECT_NE(error.message().find("'Frames'"), std::string::npos);
  EXPECT_EQ(producer.in_flight(), 0u);
}

TEST_F(ProducerTest, RefusesTheWrongTypeAtSendNamingChannelAndBothTypes) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Prediction prediction;
  const auto error = error_of([&] { (void)producer.send("VideoStream", prediction); });
  EXPECT_EQ(error.code(), corps::Errc::type_mismatch);
  EXPECT_NE(
      error.message().find("'VideoStream' carries corps.proto.Image, not corps.proto.Prediction"),
      std::string::npos);
}

TEST_F(ProducerTest, SendsOnItsBoundChannel) {
  auto options = producer_options();
  options.channel = "VideoStream";
  corps::Producer producer(registry_, options);
  corps::proto::Image image;
  const auto report = producer.send(image).get();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report.location().topic, "VideoStream");
}

TEST_F(ProducerTest, RefusesItsOwnCodecHeaderOnATypedSend) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  corps::SendOptions options;
  options.headers.push_back({std::string(corps::codec_header), "zstd"});
  const auto error = error_of([&] { (void)producer.send("VideoStream", image, options); });
  EXPECT_EQ(error.code(), corps::Errc::invalid_argument);
  EXPECT_NE(error.message().find("corps-codec"), std::string::npos) << error.message();
  // A raw send copies headers as given (replay puts a record back as it was).
  EXPECT_TRUE(producer.send_raw("VideoStream", std::string_view("raw"), options).get().ok());
}

TEST_F(ProducerTest, RefusesAnUnboundDefaultChannelAtConstruction) {
  auto options = producer_options();
  options.channel = "Nowhere";
  EXPECT_EQ(error_of([&] { corps::Producer(registry_, options); }).code(),
            corps::Errc::unknown_channel);
}

TEST_F(ProducerTest, RefusesIdempotenceWithoutAcksAll) {
  auto options = producer_options();
  options.acks = corps::Acks::leader;
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("Idempotence::off"), std::string::npos);
  options.idempotence = corps::Idempotence::off;
  EXPECT_NO_THROW(corps::Producer(registry_, options));
}

TEST_F(ProducerTest, RefusesZeroCompressionThreads) {
  auto options = producer_options();
  options.compression_threads = 0;
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("compression_threads"), std::string::npos) << error.message();
}

// Frames of four cameras, keyed by camera, compressed by two threads: every
// frame arrives, and each camera's frames arrive in the order they were sent.
TEST_F(ProducerTest, ParallelCompressionKeepsEachPartitionsOrder) {
  create_topic("Frames", 4);
  registry_.bind<corps::proto::Image>("Frames");
  auto options = producer_options();
  options.compression_threads = 2;
  options.handler.codec = corps::Codec::zlib;
  constexpr int cameras = 4;
  constexpr int per_camera = 30;
  std::atomic<int> delivered{0};
  {
    corps::Producer producer(registry_, options);
    std::mt19937 random(11);
    for (int n = 0; n < cameras * per_camera; ++n) {
      corps::proto::Image image;
      std::string pixels(20'000 + random() % 50'000, '\0');
      for (auto& c : pixels) c = static_cast<char>(random() % 16);  // compressible, unevenly
      image.set_image_data(std::move(pixels));
      image.set_source("camera-" + std::to_string(n % cameras));
      image.set_frame(n / cameras);
      corps::SendOptions send;
      send.key = image.source();
      producer.send("Frames", image, send, [&](const corps::DeliveryReport& report) {
        if (report.ok()) ++delivered;
      });
    }
    ASSERT_TRUE(producer.flush(30s).ok());
    EXPECT_EQ(producer.in_flight(), 0u);
  }
  EXPECT_EQ(delivered.load(), cameras * per_camera);

  corps::Consumer consumer(registry_, consumer_options("frames", {"Frames"}));
  const auto records = corps::testing::consume(consumer, cameras * per_camera);
  ASSERT_EQ(records.size(), static_cast<std::size_t>(cameras * per_camera));
  std::map<std::string, std::int64_t> next;
  for (const auto& record : records) {
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    const auto& image = record.as<corps::proto::Image>();
    EXPECT_EQ(image.frame(), next[image.source()]++) << image.source() << " out of order";
  }
  for (const auto& [camera, count] : next) EXPECT_EQ(count, per_camera) << camera;
}

TEST_F(ProducerTest, AProducerWithCompressionThreadsDeliversEverythingSentBeforeItCloses) {
  auto options = producer_options();
  options.compression_threads = 2;
  std::atomic<int> reported{0};
  {
    corps::Producer producer(registry_, options);
    for (int n = 0; n < 25; ++n) {
      corps::proto::Image image;
      image.set_image_data(std::string(50'000, static_cast<char>(n)));
      image.set_frame(n);
      producer.send("VideoStream", image, {},
                    [&](const corps::DeliveryReport& report) { reported += report.ok() ? 1 : 0; });
    }
  }  // no flush: the destructor hands every record over and waits for it
  EXPECT_EQ(reported.load(), 25);
  // send_raw after typed sends waits its turn.
  {
    corps::Producer producer(registry_, options);
    corps::proto::Image image;
    image.set_frame(99);
    auto typed = producer.send("VideoStream", image);
    auto raw = producer.send_raw("VideoStream", std::string_view("raw"));
    const auto typed_report = typed.get();
    const auto raw_report = raw.get();
    ASSERT_TRUE(typed_report.ok() && raw_report.ok());
    EXPECT_LT(typed_report.location().offset, raw_report.location().offset);
  }
}

TEST_F(ProducerTest, RefusesABadLibrdkafkaPropertyNamingIt) {
  auto options = producer_options();
  options.properties["linger.mss"] = "5";
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.stage(), corps::Stage::config);
  EXPECT_NE(error.message().find("'linger.mss'"), std::string::npos) << error.message();
}

TEST_F(ProducerTest, RefusesMissingBrokers) {
  auto options = producer_options();
  options.brokers.clear();
  EXPECT_EQ(error_of([&] { corps::Producer(registry_, options); }).stage(), corps::Stage::config);
}

TEST_F(ProducerTest, SaysSoWhenNoBrokerAnswers) {
  auto options = producer_options();
  options.brokers = "127.0.0.1:1";
  options.connect_timeout = 1500ms;
  const auto started = std::chrono::steady_clock::now();
  const auto error = error_of([&] { corps::Producer(registry_, options); });
  EXPECT_EQ(error.code(), corps::Errc::broker_unreachable);
  EXPECT_EQ(error.stage(), corps::Stage::connect);
  EXPECT_NE(error.message().find("127.0.0.1:1"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 15s);
}

TEST_F(ProducerTest, AnOversizedRecordGetsATypedReportAndTheNextOneIsDelivered) {
  auto options = producer_options();
  options.max_record_bytes = 20000;
  corps::Producer producer(registry_, options);
  corps::proto::Image big;
  std::mt19937 random(1);
  std::string noise(100000, '\0');
  for (auto& c : noise) c = static_cast<char>(random());  // incompressible
  big.set_image_data(noise);
  const auto refused = producer.send("VideoStream", big).get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), corps::Errc::too_large);
  EXPECT_EQ(refused.error().stage(), corps::Stage::produce);
  EXPECT_EQ(refused.persistence(), corps::Persistence::not_persisted);
  EXPECT_EQ(refused.error().severity(), corps::Severity::permanent);
  const std::string& why = refused.error().message();
  EXPECT_NE(why.find("refused before sending"), std::string::npos) << why;
  EXPECT_NE(why.find("limit of 20000 B"), std::string::npos) << why;
  EXPECT_NE(why.find("max.message.bytes"), std::string::npos) << "names the topic setting: " << why;
  corps::proto::Image small;
  EXPECT_TRUE(producer.send("VideoStream", small).get().ok());
}

TEST_F(MockProducerTest, AFullQueueFailsFastWithARetriableErrorWhenAskedTo) {
  auto options = producer_options();
  options.queue_full = corps::QueueFull::fail;
  options.max_queued_records = 10;
  options.delivery_timeout = 5s;
  corps::Producer producer(registry_, options);
  broker().set_broker_down(1);  // nothing drains the queue
  std::vector<std::future<corps::DeliveryReport>> sent;
  for (int n = 0; n < 50; ++n) {
    corps::proto::Image image;
    image.set_frame(n);
    sent.push_back(producer.send("VideoStream", image));
  }
  int queue_full = 0;
  for (auto& future : sent) {
    if (future.wait_for(0s) != std::future_status::ready) continue;
    const auto report = future.get();
    ASSERT_FALSE(report.ok());
    EXPECT_EQ(report.error().code(), corps::Errc::queue_full);
    EXPECT_TRUE(report.error().retriable());
    ++queue_full;
  }
  // At most max_queued_records wait; the rest were refused at once.
  EXPECT_GE(queue_full, 40);
  broker().set_broker_up(1);
}

TEST_F(MockProducerTest, AFatalErrorIsTypedAndRefusesEveryLaterSend) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  // The broker says a sequence number was skipped: librdkafka can no longer
  // keep the idempotence guarantees and stops the producer.
  broker().push_request_errors(corps::KafkaApi::produce,
                               {corps::KafkaError::out_of_order_sequence_number});
  const auto failed = producer.send("VideoStream", image).get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().severity(), corps::Severity::fatal) << failed.error().to_string();
  const auto fatal = producer.fatal_error();
  ASSERT_TRUE(fatal.has_value());
  EXPECT_EQ(fatal->code(), corps::Errc::fatal);
  EXPECT_EQ(fatal->kafka_error(), corps::KafkaError::out_of_order_sequence_number)
      << corps::kafka_error_name(fatal->kafka_error());
  const auto after = producer.send("VideoStream", image).get();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), corps::Errc::fatal);
  EXPECT_NE(after.error().message().find("create a new Producer"), std::string::npos);
}

TEST_F(ProducerTest, FlushRethrowsWhatADeliveryCallbackThrew) {
  corps::Producer producer(registry_, producer_options());
  corps::proto::Image image;
  producer.send("VideoStream", image, {},
                [](const corps::DeliveryReport&) { throw std::runtime_error("callback failed"); });
  EXPECT_THROW((void)producer.flush(10s), std::runtime_error);
  EXPECT_TRUE(producer.flush(10s).ok()) << "the exception is re-thrown once";
}

TEST_F(ProducerTest, DeliveryCallbacksRunOneAtATimeWhileSeveralThreadsSend) {
  corps::Producer producer(registry_, producer_options());
  constexpr int threads = 4;
  constexpr int per_thread = 2'000;
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::atomic<int> delivered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&, t] {
      for (int n = 0; n < per_thread; ++n) {
        corps::proto::Image image;
        image.set_source("camera-" + std::to_string(t));
        image.set_frame(n);
        producer.send("VideoStream", image, {}, [&](const corps::DeliveryReport& report) {
          if (running.fetch_add(1) != 0) ++overlaps;
          std::this_thread::yield();  // widen the window another callback could enter
          if (report.ok()) ++delivered;
          running.fetch_sub(1);
        });
      }
    });
  }
  for (auto& sender : senders) sender.join();
  ASSERT_TRUE(producer.flush(30s).ok());
  EXPECT_EQ(delivered.load(), threads * per_thread);
  EXPECT_EQ(overlaps.load(), 0) << "two delivery callbacks ran at once";
}

// The first record to a topic makes librdkafka build that topic's state;
// here several threads race to be first, on topic after topic.
TEST_F(ProducerTest, SeveralThreadsSendingFirstToTheSameNewTopicsAllDeliver) {
  constexpr int threads = 4;
  constexpr int topics = 20;
  for (int n = 0; n < topics; ++n) create_topic("Fresh-" + std::to_string(n));
  corps::Producer producer(registry_, producer_options());
  std::atomic<int> ready{0};
  std::atomic<int> delivered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t) {
    senders.emplace_back([&] {
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      for (int n = 0; n < topics; ++n) {
        producer.send_raw("Fresh-" + std::to_string(n), std::string_view("first"), {},
                          [&](const corps::DeliveryReport& report) {
                            if (report.ok()) ++delivered;
                          });
      }
    });
  }
  for (auto& sender : senders) sender.join();
  ASSERT_TRUE(producer.flush(30s).ok());
  EXPECT_EQ(delivered.load(), threads * topics);
}

TEST_F(ProducerTest, ACallbackMaySendAndItsRecordIsReportedToo) {
  corps::Producer producer(registry_, producer_options());
  std::atomic<int> first{0};
  std::atomic<int> second{0};
  for (int n = 0; n < 200; ++n) {
    corps::proto::Image image;
    image.set_frame(n);
    producer.send("VideoStream", image, {}, [&](const corps::DeliveryReport& report) {
      if (!report.ok()) return;
      ++first;
      corps::proto::Image follow_up;
      follow_up.set_frame(report.location().offset);
      producer.send("VideoStream", follow_up, {},
                    [&](const corps::DeliveryReport& again) { second += again.ok() ? 1 : 0; });
    });
  }
  // flush() also waits for the records the callbacks sent.
  ASSERT_TRUE(producer.flush(30s).ok());
  EXPECT_EQ(first.load(), 200);
  EXPECT_EQ(second.load(), 200);
}

TEST_F(ProducerTest, ReportsArriveWithoutFlushOnceSendingStops) {
  corps::Producer producer(registry_, producer_options());
  std::atomic<int> delivered{0};
  for (int n = 0; n < 100; ++n) {
    corps::proto::Image image;
    image.set_frame(n);
    producer.send("VideoStream", image, {},
                  [&](const corps::DeliveryReport& report) { delivered += report.ok() ? 1 : 0; });
  }
  // Nobody sends or flushes now: the delivery thread serves the reports.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (delivered.load() < 100 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(delivered.load(), 100);
  EXPECT_EQ(producer.in_flight(), 0U);
}

TEST_F(ProducerTest, LargeAndSmallValuesBothArriveIntact) {
  // Small values are copied into librdkafka's record, large ones handed
  // over: both ways must carry the exact bytes.
  corps::Producer producer(registry_, producer_options());
  corps::Consumer consumer(registry_, consumer_options("sizes", {"VideoStream"}));
  std::vector<std::string> sent;
  for (std::size_t size : {0UL, 10UL, 900UL, 1'024UL, 1'025UL, 5'000UL, 300'000UL}) {
    corps::proto::Image image;
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + size) % 251);
    image.set_image_data(data);
    image.set_frame(static_cast<std::int64_t>(size));
    sent.push_back(std::move(data));
    ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  }
  for (const auto& expected : sent) {
    auto record = consumer.poll(10s);
    ASSERT_TRUE(record && record->ok());
    EXPECT_EQ(record->as<corps::proto::Image>().image_data(), expected)
        << "value of " << expected.size() << " bytes";
  }
}

TEST_F(ProducerTest, AnAlreadyCompressedValueIsStoredAndReadsBack) {
  corps::Producer producer(registry_, producer_options());
  corps::Consumer consumer(registry_, consumer_options("stored", {"VideoStream"}));
  corps::proto::Image image;
  image.set_pixel_format(corps::proto::PIXEL_FORMAT_JPEG);
  image.set_image_data(std::string(20'000, 'j'));  // deflates to almost nothing if asked
  ASSERT_TRUE(producer.send("VideoStream", image, {.compressibility = corps::Compressibility::already_compressed}).get().ok());
  ASSERT_TRUE(producer.send("VideoStream", image).get().ok());
  auto stored = consumer.poll(10s);
  auto deflated = consumer.poll(10s);
  ASSERT_TRUE(stored && stored->ok() && deflated && deflated->ok());
  EXPECT_GT(stored->value()->size(), 20'000U) << "stored: the bytes as they were, framed";
  EXPECT_LT(deflated->value()->size(), 1'000U);
  EXPECT_EQ(stored->as<corps::proto::Image>().image_data(), image.image_data());
}

// acks=0 reports a record as sent without an offset (the broker does not
// answer); acks=1 with the offset the leader gave it. Either way the
// records arrive, in order.
TEST_F(ProducerTest, AcksNoneAndLeaderDeliverToo) {
  std::int64_t frame = 0;
  for (auto acks : {corps::Acks::none, corps::Acks::leader}) {
    auto options = producer_options();
    options.acks = acks;
    options.idempotence = corps::Idempotence::off;
    corps::Producer producer(registry_, options);
    for (int n = 0; n < 5; ++n) {
      corps::proto::Image image;
      image.set_frame(frame++);
      const auto report = producer.send("VideoStream", image).get();
      ASSERT_TRUE(report.ok()) << report.error().to_string();
      EXPECT_EQ(report.location().topic, "VideoStream");
      if (acks == corps::Acks::none) {
        EXPECT_EQ(report.location().offset, -1) << "acks=0 has no offset to report";
      } else {
        EXPECT_EQ(report.location().offset, frame - 1);
        EXPECT_EQ(report.persistence(), corps::Persistence::persisted);
      }
    }
  }
  corps::Consumer reader(registry_, consumer_options("", {"VideoStream"}));
  const auto records = corps::testing::consume(reader, 10);
  ASSERT_EQ(records.size(), 10U);
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].as<corps::proto::Image>().frame(), static_cast<std::int64_t>(i));
    EXPECT_EQ(records[i].offset(), static_cast<std::int64_t>(i));
  }
}

// Each callback sends one more record while the application keeps the
// compression pipeline full: the callback's send must not wait for the
// pipeline it is part of.
TEST_F(ProducerTest, ACallbackThatSendsNeverWaitsOnTheCompressionThreads) {
  auto options = producer_options();
  options.compression_threads = 2;
  options.delivery_timeout = 60s;
  // What the callbacks touch outlives the producer, whose destructor may
  // run the last of them.
  HangGuard guard(45s, "2,000 sends whose callbacks send again, on two compression threads");
  constexpr int count = 2'000;
  std::atomic<int> first{0};
  std::atomic<int> second{0};
  corps::Producer producer(registry_, options);
  for (int n = 0; n < count; ++n) {
    auto image = noisy_image(n, 2'048);
    producer.send("VideoStream", image, {}, [&](const corps::DeliveryReport& report) {
      if (!report.ok()) return;
      ++first;
      auto follow_up = noisy_image(report.location().offset, 512);
      producer.send("VideoStream", follow_up, {},
                    [&](const corps::DeliveryReport& again) { second += again.ok() ? 1 : 0; });
    });
  }
  ASSERT_TRUE(producer.flush(40s).ok());
  EXPECT_EQ(first.load(), count);
  EXPECT_EQ(second.load(), count);
}

TEST_F(ProducerTest, ACallbackMaySendRawWhileCompressionThreadsWork) {
  auto options = producer_options();
  options.compression_threads = 2;
  options.delivery_timeout = 60s;
  HangGuard guard(30s, "raw sends from callbacks, on two compression threads");
  constexpr int count = 200;
  std::atomic<int> forwarded{0};
  corps::Producer producer(registry_, options);
  for (int n = 0; n < count; ++n) {
    auto image = noisy_image(n, 4'096);
    producer.send("VideoStream", image, {}, [&](const corps::DeliveryReport& report) {
      if (!report.ok()) return;
      producer.send_raw("VideoStream", std::string_view("forwarded"), {},
                        [&](const corps::DeliveryReport& again) { forwarded += again.ok(); });
    });
  }
  ASSERT_TRUE(producer.flush(25s).ok());
  EXPECT_EQ(forwarded.load(), count);
}

// The queue holds five records; every callback sends one more. The callback
// cannot wait for room (it would wait for reports only its own thread can
// serve): its record must still go out, in order, without a stall.
TEST_F(ProducerTest, ACallbackSendingIntoAFullQueueDoesNotStall) {
  for (unsigned threads : {1U, 2U}) {
    SCOPED_TRACE("compression_threads " + std::to_string(threads));
    const std::string topic = "Queue-" + std::to_string(threads);
    registry_.bind<corps::proto::Image>(topic);
    create_topic(topic);
    constexpr int count = 100;
    {
      auto options = producer_options();
      options.compression_threads = threads;
      options.max_queued_records = 5;
      options.delivery_timeout = 60s;
      HangGuard guard(30s, "callbacks sending into a full queue");
      std::atomic<int> second{0};
      corps::Producer producer(registry_, options);
      for (int n = 0; n < count; ++n) {
        corps::proto::Image image;
        image.set_frame(n);
        producer.send(topic, image, {}, [&](const corps::DeliveryReport& report) {
          if (!report.ok()) return;
          corps::proto::Image follow_up;
          follow_up.set_frame(-1 - report.location().offset);
          producer.send(topic, follow_up, {},
                        [&](const corps::DeliveryReport& again) { second += again.ok(); });
        });
      }
      ASSERT_TRUE(producer.flush(25s).ok());
      EXPECT_EQ(second.load(), count);
    }
    // The follow-ups went out in the order of their callbacks, which is the
    // order of the first records' offsets: frames -1, -2, -3...
    corps::Consumer reader(registry_, consumer_options("", {topic}));
    std::vector<std::int64_t> follow_ups;
    for (const auto& record : corps::testing::consume(reader, 2 * count)) {
      ASSERT_TRUE(record.ok());
      const auto frame = record.as<corps::proto::Image>().frame();
      if (frame < 0) follow_ups.push_back(frame);
    }
    ASSERT_EQ(follow_ups.size(), static_cast<std::size_t>(count));
    for (std::size_t i = 1; i < follow_ups.size(); ++i) {
      EXPECT_LT(follow_ups[i], follow_ups[i - 1]) << "follow-up " << i << " out of order";
    }
  }
}

TEST_F(ProducerTest, FlushFromADeliveryCallbackIsRefusedNotADeadlock) {
  corps::Producer producer(registry_, producer_options());
  HangGuard guard(20s, "flush() from a delivery callback");
  std::promise<corps::Status> flushed;
  corps::proto::Image image;
  producer.send("VideoStream", image, {},
                [&](const corps::DeliveryReport&) { flushed.set_value(producer.flush(10s)); });
  const corps::Status status = flushed.get_future().get();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), corps::Errc::invalid_argument);
  EXPECT_NE(status.error().message().find("delivery callback"), std::string::npos);
  EXPECT_TRUE(producer.flush(10s).ok());
}

// Records that fail before they reach the broker (too large here) are
// reported too: their callbacks must not run beside another's.
TEST_F(ProducerTest, DeliveryCallbacksRunOneAtATimeWhenRecordsFailLocally) {
  for (unsigned compression : {1U, 2U}) {
    SCOPED_TRACE("compression_threads " + std::to_string(compression));
    auto options = producer_options();
    options.compression_threads = compression;
    options.max_record_bytes = 20'000;
    corps::Producer producer(registry_, options);
    constexpr int threads = 3;
    constexpr int per_thread = 600;
    std::atomic<int> running{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> delivered{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < threads; ++t) {
      senders.emplace_back([&, t] {
        for (int n = 0; n < per_thread; ++n) {
          // Every third record is over the limit after compression.
          auto image = noisy_image(t * per_thread + n, n % 3 == 0 ? 40'000 : 64);
          producer.send("VideoStream", image, {}, [&](const corps::DeliveryReport& report) {
            if (running.fetch_add(1) != 0) ++overlaps;
            std::this_thread::yield();  // widen the window another callback could enter
            if (report.ok()) {
              ++delivered;
            } else if (report.error().code() == corps::Errc::too_large) {
              ++refused;
            }
            running.fetch_sub(1);
          });
        }
      });
    }
    for (auto& sender : senders) sender.join();
    ASSERT_TRUE(producer.flush(30s).ok());
    EXPECT_EQ(refused.load(), threads * per_thread / 3);
    EXPECT_EQ(delivered.load() + refused.load(), threads * per_thread);
    EXPECT_EQ(overlaps.load(), 0) << "two delivery callbacks ran at once";
  }
}

// Callbacks that send again every record that failed, while the producer is
// destroyed with the broker down: the destructor ends, and every send that
// was accepted gets exactly one report; a send from a callback once the
// producer is closing throws instead of being accepted.
TEST_F(MockProducerTest, DestroyingAProducerWhoseCallbacksResendEndsAndReportsEverySend) {
  for (unsigned threads : {1U, 2U}) {
    SCOPED_TRACE("compression_threads " + std::to_string(threads));
    std::atomic<int> accepted{0};
    std::atomic<int> reported{0};
    std::atomic<int> refused_while_closing{0};
    {
      auto options = producer_options();
      options.compression_threads = threads;
      options.delivery_timeout = 2s;
      // Declared before the producer, so they outlive it: its destructor
      // runs the last callbacks, and the guard watches that destructor.
      HangGuard guard(60s, "destroying a producer whose callbacks resend");
      std::function<void(const corps::DeliveryReport&)> resend;
      std::function<void(std::int64_t)> send;
      corps::Producer producer(registry_, options);
      broker().set_broker_down(1);
      send = [&](std::int64_t frame) {
        auto image = noisy_image(frame, 600);
        producer.send("VideoStream", image, {}, resend);
        ++accepted;
      };
      resend = [&](const corps::DeliveryReport& report) {
        ++reported;
        if (report.ok()) return;
        try {
          send(report.location().offset);
        } catch (const corps::Exception& e) {
          EXPECT_EQ(e.error().code(), corps::Errc::closed) << e.what();
          ++refused_while_closing;
        }
      };
      for (int n = 0; n < 50; ++n) send(n);
    }
    broker().set_broker_up(1);
    EXPECT_EQ(reported.load(), accepted.load()) << "a send had no report, or two";
    EXPECT_GE(refused_while_closing.load(), 1);
  }
}

}  // namespace
