#include <gtest/gtest.h>

#include "corps/corps.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/testing/broker_test.hpp"

namespace {

using namespace std::chrono_literals;
using corps::testing::consume;

class RoundTrip : public corps::testing::BrokerTest {
 protected:
  RoundTrip() {
    video_ = registry_.bind<corps::proto::Image>("VideoStream");
    predictions_ = registry_.bind<corps::proto::Prediction>("Predictions");
    create_topic("VideoStream", 1);
    create_topic("Predictions", 1);
  }

  static corps::proto::Image frame(int n) {
    corps::proto::Image image;
    image.set_image_data(std::string(300, static_cast<char>(n)));
    image.set_width(10);
    image.set_height(10);
    image.set_frame(n);
    return image;
  }

  corps::Channel<corps::proto::Image> video_{""};
  corps::Channel<corps::proto::Prediction> predictions_{""};
};

TEST_F(RoundTrip, TypedImagesArriveInOrderWithTheirMetadata) {
  corps::Producer producer(registry_, producer_options());
  std::vector<corps::proto::Image> sent;
  std::vector<std::future<corps::DeliveryReport>> reports;
  for (int n = 0; n < 20; ++n) {
    sent.push_back(frame(n));
    reports.push_back(producer.send(video_, sent.back()));
  }
  for (int n = 0; n < 20; ++n) {
    const auto report = reports[n].get();
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_EQ(report.location(), (corps::RecordLocation{"VideoStream", 0, n}));
    EXPECT_EQ(report.persistence(), corps::Persistence::persisted);
  }

  corps::Consumer consumer(registry_, consumer_options("round-trip", {"VideoStream"}));
  const auto records = consume(consumer, 20);
  ASSERT_EQ(records.size(), 20u);
  for (int n = 0; n < 20; ++n) {
    const auto& record = records[n];
    ASSERT_TRUE(record.ok()) << record.error().to_string();
    const auto& image = record.as<corps::proto::Image>();
    EXPECT_EQ(image.frame(), n);
    EXPECT_EQ(image.image_data(), sent[n].image_data());
    EXPECT_EQ(image.message_data().uuid(), sent[n].message_data().uuid());
    EXPECT_EQ(image.message_data().trace_id(), sent[n].message_data().trace_id());
    EXPECT_EQ(image.message_data().offset(), n);
    EXPECT_EQ(image.message_data().partition(), 0);
    EXPECT_EQ(record.metadata().uuid(), sent[n].message_data().uuid());
    EXPECT_EQ(record.offset(), n);
    EXPECT_FALSE(record.key().has_value());
    const auto* type = corps::find_header(record.headers(), corps::type_header);
    ASSERT_NE(type, nullptr);
    EXPECT_EQ(type->value, "corps.proto.Image");
    EXPECT_GT(record.timestamp_ms(), 0);
  }
}

TEST_F(RoundTrip, KeysAndHeadersArriveAsSent) {
  corps::Producer producer(registry_, producer_options());
  auto image = frame(1);
  corps::SendOptions options;
  options.key = "camera-7";
  options.headers = {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                     {"empty", std::nullopt}};
  ASSERT_TRUE(producer.send(video_, image, options).get().ok());

  corps::Consumer consumer(registry_, consumer_options("keys", {"VideoStream"}));
  const auto records = consume(consumer, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key(), "camera-7");
  const auto& headers = records[0].headers();
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], options.headers[0]);
  EXPECT_EQ(headers[1], options.headers[1]);
  EXPECT_EQ(headers[2].name, "corps-type");
}

TEST_F(RoundTrip, EveryCodecIsNamedInAHeaderAndReadBack) {
  const corps::Codec codecs[] = {corps::Codec::none, corps::Codec::zstd, corps::Codec::lz4};
  std::vector<corps::proto::Image> sent;
  for (corps::Codec codec : codecs) {
    auto options = producer_options();
    options.handler.codec = codec;
    corps::Producer producer(registry_, options);
    sent.push_back(frame(static_cast<int>(sent.size())));
    ASSERT_TRUE(producer.send(video_, sent.back()).get().ok()) << corps::to_string(codec);
  }

  corps::Consumer consumer(registry_, consumer_options("codecs", {"VideoStream"}));
  const auto records = consume(consumer, std::size(codecs));
  ASSERT_EQ(records.size(), std::size(codecs));
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string name(corps::to_string(codecs[i]));
    ASSERT_TRUE(records[i].ok()) << records[i].error().to_string();
    const auto* named = corps::find_header(records[i].headers(), corps::codec_header);
    ASSERT_NE(named, nullptr) << name;
    EXPECT_EQ(named->value, name);
    const auto& read = records[i].as<corps::proto::Image>();
    EXPECT_EQ(read.image_data(), sent[i].image_data()) << name;
    EXPECT_EQ(read.message_data().uuid(), sent[i].message_data().uuid()) << name;
  }
  // `none` is the serialized message itself.
  EXPECT_EQ(records[0].value(), sent[0].SerializeAsString());
}

// The codec header is per record: a zstd or lz4 producer sends a value too
// short to gain from a frame as it is, under `none`, on the sending thread
// and on compression threads alike.
TEST_F(RoundTrip, ShortZstdAndLz4ValuesTravelUncompressedUnderNone) {
  struct Case {
    corps::Codec codec;
    unsigned compression_threads;
  };
  const Case cases[] = {{corps::Codec::zstd, 1}, {corps::Codec::lz4, 1}, {corps::Codec::zstd, 2}};
  std::vector<corps::proto::Image> sent;
  std::vector<std::string> expected_codec;
  for (const Case& c : cases) {
    auto options = producer_options();
    options.handler.codec = c.codec;
    options.compression_threads = c.compression_threads;
    corps::Producer producer(registry_, options);
    corps::proto::Image short_image;
    short_image.set_frame(static_cast<int>(sent.size()));
    sent.push_back(short_image);
    expected_codec.emplace_back("none");
    ASSERT_TRUE(producer.send(video_, sent.back()).get().ok());
    sent.push_back(frame(static_cast<int>(sent.size())));
    expected_codec.emplace_back(corps::to_string(c.codec));
    ASSERT_TRUE(producer.send(video_, sent.back()).get().ok());
  }

  corps::Consumer consumer(registry_, consumer_options("short-values", {"VideoStream"}));
  const auto records = consume(consumer, sent.size());
  ASSERT_EQ(records.size(), sent.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(records[i].ok()) << records[i].error().to_string();
    const auto* named = corps::find_header(records[i].headers(), corps::codec_header);
    ASSERT_NE(named, nullptr) << i;
    EXPECT_EQ(named->value, expected_codec[i]) << i;
    const auto& read = records[i].as<corps::proto::Image>();
    EXPECT_EQ(read.frame(), sent[i].frame());
    EXPECT_EQ(read.image_data(), sent[i].image_data());
    if (expected_codec[i] == "none") EXPECT_EQ(records[i].value(), sent[i].SerializeAsString());
  }
}

TEST_F(RoundTrip, TheDefaultCodecWritesNoCodecHeader) {
  corps::Producer producer(registry_, producer_options());
  auto image = frame(3);
  ASSERT_TRUE(producer.send(video_, image).get().ok());
  corps::Consumer consumer(registry_, consumer_options("codec-default", {"VideoStream"}));
  const auto records = consume(consumer, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(corps::find_header(records[0].headers(), corps::codec_header), nullptr);
}

TEST_F(RoundTrip, ACallbackGetsOneReportPerRecord) {
  std::atomic<int> delivered{0};
  {
    corps::Producer producer(registry_, producer_options());
    for (int n = 0; n < 50; ++n) {
      auto image = frame(n);
      producer.send(video_, image, {}, [&](const corps::DeliveryReport& report) {
        if (report.ok()) ++delivered;
      });
    }
    ASSERT_TRUE(producer.flush(20s).ok());
    EXPECT_EQ(producer.in_flight(), 0u);
  }
  EXPECT_EQ(delivered.load(), 50);
}

TEST_F(RoundTrip, OneConsumerReadsSeveralChannelsEachAsItsType) {
  corps::Producer producer(registry_, producer_options());
  auto image = frame(3);
  corps::proto::Prediction prediction;
  prediction.set_frame(3);
  prediction.add_object("person");
  *prediction.mutable_message_data() = image.message_data();
  ASSERT_TRUE(producer.send(video_, image).get().ok());
  ASSERT_TRUE(producer.send(predictions_, prediction).get().ok());

  corps::Consumer consumer(registry_, consumer_options("both", {"VideoStream", "Predictions"}));
  const auto records = consume(consumer, 2);
  ASSERT_EQ(records.size(), 2u);
  int images = 0;
  int predictions = 0;
  for (const auto& record : records) {
    ASSERT_TRUE(record.ok());
    if (record.topic() == "VideoStream") {
      images += record.get_if<corps::proto::Image>() != nullptr;
      EXPECT_EQ(record.get_if<corps::proto::Prediction>(), nullptr);
    } else {
      predictions += record.get_if<corps::proto::Prediction>() != nullptr;
      EXPECT_EQ(record.as<corps::proto::Prediction>().object(0), "person");
    }
  }
  EXPECT_EQ(images, 1);
  EXPECT_EQ(predictions, 1);
}

TEST_F(RoundTrip, AsTheWrongTypeThrowsATypeError) {
  corps::Producer producer(registry_, producer_options());
  auto image = frame(0);
  ASSERT_TRUE(producer.send(video_, image).get().ok());
  corps::Consumer consumer(registry_, consumer_options("as-wrong", {"VideoStream"}));
  const auto records = consume(consumer, 1);
  ASSERT_EQ(records.size(), 1u);
  try {
    (void)records[0].as<corps::proto::Prediction>();
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::type_mismatch);
    EXPECT_EQ(e.error().location(), records[0].location());
  }
}

TEST_F(RoundTrip, RangeForIteratesUntilStopped) {
  corps::Producer producer(registry_, producer_options());
  for (int n = 0; n < 5; ++n) {
    auto image = frame(n);
    ASSERT_TRUE(producer.send(video_, image).get().ok());
  }
  corps::Consumer consumer(registry_, consumer_options("range-for", {"VideoStream"}));
  std::vector<std::int64_t> frames;
  for (auto& record : consumer) {
    frames.push_back(record.as<corps::proto::Image>().frame());
    if (frames.size() == 5) consumer.stop();
  }
  EXPECT_EQ(frames, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST_F(RoundTrip, LagCountsWhatIsWrittenButNotYetRead) {
  corps::Producer producer(registry_, producer_options());
  for (int n = 0; n < 6; ++n) {
    auto image = frame(n);
    ASSERT_TRUE(producer.send(video_, image).get().ok());
  }
  auto options = consumer_options("lagging", {"VideoStream"});
  options.properties["queued.min.messages"] = "1";
  corps::Consumer consumer(registry_, options);
  ASSERT_EQ(consume(consumer, 2).size(), 2u);
  const auto lag = consumer.lag();
  ASSERT_EQ(lag.size(), 1u);
  EXPECT_EQ(lag[0].partition, (corps::TopicPartition{"VideoStream", 0}));
  EXPECT_EQ(lag[0].high_watermark, 6);
  EXPECT_GE(lag[0].position, 2);
  EXPECT_EQ(lag[0].lag, 6 - lag[0].position);
}

}  // namespace

namespace {

// A consumer told to read channels it has no type for hands each record
// back undecoded, its bytes and headers kept; without being told, it
// refuses the channel at construction.
TEST_F(RoundTrip, AnUnboundChannelIsReadUndecodedOnlyWhenAskedFor) {
  corps::Producer producer(registry_, producer_options());
  auto image = frame(1);
  ASSERT_TRUE(producer.send(video_, image).get().ok());

  corps::ChannelRegistry nothing_bound;
  EXPECT_THROW(corps::Consumer(nothing_bound, consumer_options("unbound", {"VideoStream"})),
               corps::Exception);

  auto options = consumer_options("unbound", {"VideoStream"});
  options.read_unbound_channels = true;
  corps::Consumer consumer(nothing_bound, options);
  const auto records = consume(consumer, 1);
  ASSERT_EQ(records.size(), 1u);
  const auto& record = records[0];
  ASSERT_FALSE(record.ok());
  EXPECT_EQ(record.error().stage(), corps::Stage::type);
  EXPECT_EQ(record.error().code(), corps::Errc::unknown_channel);
  ASSERT_TRUE(record.value().has_value());
  EXPECT_EQ(static_cast<unsigned char>(record.value()->front()), 0x78) << "zlib, as sent";
  ASSERT_FALSE(record.headers().empty());
  EXPECT_EQ(record.headers().front().name, "corps-type");
}

}  // namespace
