#include "corps/message_handler.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include "corps/headers.hpp"
#include "corps/image.pb.h"
#include "corps/message_loader.hpp"
#include "corps/prediction.pb.h"
#include "corps_test/test_types.pb.h"
#include "messagecorps/image.pb.h"

namespace {

using corps::ChannelRegistry;
using corps::MessageHandler;

// Decodes a value the way MessageCorps does: zlib.decompress, then parse.
template <class T>
T as_messagecorps_reads_it(std::string_view value) {
  std::string inflated(1 << 20, '\0');
  uLongf size = inflated.size();
  EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(inflated.data()), &size,
                       reinterpret_cast<const Bytef*>(value.data()), value.size()),
            Z_OK);
  inflated.resize(size);
  T message;
  EXPECT_TRUE(message.ParseFromString(inflated));
  return message;
}

ChannelRegistry video_registry() {
  ChannelRegistry registry;
  registry.bind<corps::proto::Image>("VideoStream");
  registry.bind<corps::proto::Prediction>("Predictions");
  return registry;
}

TEST(MessageHandler, StampsSerializesAndCompressesAsMessageCorpsReadsIt) {
  MessageHandler handler(video_registry(), {.metadata = {corps::proto::STAGING, "camera"}});
  corps::proto::Image image;
  image.set_image_data("pixels");
  image.set_width(2);
  image.set_height(1);
  image.set_frame(42);
  auto value = handler.encode("VideoStream", image);
  ASSERT_TRUE(value.ok());
  // The caller's message carries the stamp it was sent with.
  EXPECT_EQ(image.message_data().sending_service(), "camera");
  EXPECT_FALSE(image.message_data().uuid().empty());

  const auto read = as_messagecorps_reads_it<protobuf::image::Image>(value->value.view());
  EXPECT_EQ(read.image_data(), "pixels");
  EXPECT_EQ(read.frame(), 42);
  EXPECT_EQ(read._message_data().environment(), protobuf::common::messageData::STAGING);
  EXPECT_EQ(read._message_data().uuid(), image.message_data().uuid());
  EXPECT_EQ(read._message_data().trace_id(), image.message_data().trace_id());
  EXPECT_DOUBLE_EQ(read._message_data().timestamp(), image.message_data().timestamp());
}

TEST(MessageHandler, KeepsTheTraceIdAcrossAPipeline) {
  MessageHandler handler(video_registry(), {});
  corps::proto::Image image;
  ASSERT_TRUE(handler.encode("VideoStream", image).ok());
  corps::proto::Prediction prediction;
  *prediction.mutable_message_data() = image.message_data();
  ASSERT_TRUE(handler.encode("Predictions", prediction).ok());
  EXPECT_EQ(prediction.message_data().trace_id(), image.message_data().trace_id());
  EXPECT_NE(prediction.message_data().uuid(), image.message_data().uuid());
}

TEST(MessageHandler, UsesTheConfiguredZlibLevel) {
  MessageHandler stored(video_registry(), {.zlib_level = 0});
  MessageHandler best(video_registry(), {.zlib_level = 9});
  corps::proto::Image image;
  image.set_image_data(std::string(100000, 'x'));
  const auto plain = stored.encode("VideoStream", image);
  const auto small = best.encode("VideoStream", image);
  ASSERT_TRUE(plain.ok() && small.ok());
  EXPECT_GT(plain->value.size(), 100000u);
  EXPECT_LT(small->value.size(), 1000u);
  EXPECT_EQ(as_messagecorps_reads_it<corps::proto::Image>(plain->value.view()).image_data().size(),
            100000u);
}

TEST(MessageHandler, StoresShortValuesUnlessToldToDeflateThemAll) {
  corps::proto::Prediction prediction;
  prediction.add_object("person person person person person person");
  MessageHandler stores(video_registry(), {});
  MessageHandler deflates(video_registry(), {.zlib_store_below = 0});
  const auto stored = stores.encode("Predictions", prediction);
  const auto deflated = deflates.encode("Predictions", prediction);
  ASSERT_TRUE(stored.ok() && deflated.ok());
  const auto serialized = prediction.ByteSizeLong();
  ASSERT_LT(serialized, corps::default_zlib_store_below);
  EXPECT_EQ(stored->value.size(), serialized + 11) << "stored: zlib's framing around the bytes";
  EXPECT_LT(deflated->value.size(), stored->value.size()) << "the repeated label deflates";
  // MessageCorps reads both.
  EXPECT_EQ(as_messagecorps_reads_it<corps::proto::Prediction>(stored->value.view()).object(0),
            prediction.object(0));
  EXPECT_EQ(as_messagecorps_reads_it<corps::proto::Prediction>(deflated->value.view()).object(0),
            prediction.object(0));
}

TEST(MessageHandler, SaysWhichCodecEachValueIsIn) {
  MessageHandler zstd(video_registry(), {.codec = corps::Codec::zstd});
  EXPECT_EQ(zstd.codec(), corps::Codec::zstd);
  corps::proto::Prediction prediction;
  prediction.set_frame(3);
  const auto short_value = zstd.encode("Predictions", prediction);
  ASSERT_TRUE(short_value.ok());
  ASSERT_LT(prediction.ByteSizeLong(), corps::default_uncompressed_below);
  EXPECT_EQ(short_value->codec, corps::Codec::none);
  EXPECT_EQ(short_value->value.view(), prediction.SerializeAsString()) << "sent as it is";

  corps::proto::Image image;
  image.set_image_data(std::string(4096, 'p'));
  const auto long_value = zstd.encode("VideoStream", image);
  ASSERT_TRUE(long_value.ok());
  EXPECT_EQ(long_value->codec, corps::Codec::zstd);
  EXPECT_LT(long_value->value.size(), 4096u);

  // zlib values are always zlib: short ones are stored inside the stream.
  MessageHandler zlib(video_registry(), {});
  const auto zlib_value = zlib.encode("Predictions", prediction);
  ASSERT_TRUE(zlib_value.ok());
  EXPECT_EQ(zlib_value->codec, corps::Codec::zlib);
}

// The headers an encoded record carries, as (name, value) strings.
std::vector<std::pair<std::string, std::string>> headers_of(const corps::EncodedRecord& record) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : record.headers()) out.emplace_back(name, value);
  return out;
}

TEST(MessageHandler, NamesTheTypeAndAnyCodecButZlibInTheRecordsHeaders) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  // Then the record's trace (trace_context_test.cpp says more).
  const auto traceparent = [](const corps::proto::MessageData& metadata) {
    return std::pair<std::string, std::string>(
        "traceparent",
        "00-" + metadata.trace_id() + "-" + corps::span_id_of_uuid(metadata.uuid()) + "-01");
  };
  corps::proto::Image image;
  image.set_image_data(std::string(4096, 'p'));
  MessageHandler zlib(video_registry(), {});
  auto headers = headers_of(*zlib.encode("VideoStream", image));
  EXPECT_EQ(headers,
            (Pairs{{"corps-type", "corps.proto.Image"}, traceparent(image.message_data())}))
      << "zlib is what no codec header means";
  MessageHandler lz4(video_registry(), {.codec = corps::Codec::lz4});
  headers = headers_of(*lz4.encode("VideoStream", image));
  EXPECT_EQ(headers, (Pairs{{"corps-type", "corps.proto.Image"},
                            {"corps-codec", "lz4"},
                            traceparent(image.message_data())}));
  MessageHandler untyped(video_registry(), {.codec = corps::Codec::zstd,
                                            .type_header = corps::TypeHeader::off,
                                            .trace_header = corps::TraceHeader::off});
  corps::proto::Prediction prediction;
  EXPECT_EQ(headers_of(*untyped.encode("Predictions", prediction)),
            (Pairs{{"corps-codec", "none"}}))
      << "a short zstd value goes as none, and says so";
}

TEST(MessageHandler, WhatItEncodesTheLoaderReadsBackByItsHeaders) {
  for (const auto codec :
       {corps::Codec::zlib, corps::Codec::none, corps::Codec::zstd, corps::Codec::lz4}) {
    MessageHandler handler(video_registry(), {.codec = codec});
    corps::MessageLoader loader(video_registry());
    for (const std::size_t size : {std::size_t{10}, std::size_t{100'000}}) {
      corps::proto::Image image;
      image.set_image_data(std::string(size, 'q'));
      const auto encoded = handler.encode("VideoStream", image);
      ASSERT_TRUE(encoded.ok());
      corps::Headers headers;
      for (const auto& [name, value] : encoded->headers()) {
        headers.push_back({std::string(name), std::string(value)});
      }
      const corps::RawRecord raw{"VideoStream",         0,       1, encoded->value.data(),
                                 encoded->value.size(), &headers};
      const auto loaded = loader.load(raw);
      ASSERT_TRUE(loaded.ok()) << corps::to_string(codec) << " " << size << ": "
                               << loaded.error().to_string();
      EXPECT_EQ(dynamic_cast<const corps::proto::Image&>(**loaded).image_data().size(), size);
    }
  }
}

TEST(MessageHandler, RefusesAnUnboundChannel) {
  MessageHandler handler(video_registry(), {});
  corps::proto::Image image;
  try {
    (void)handler.encode("Videos", image);
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::unknown_channel);
    EXPECT_EQ(e.error().stage(), corps::Stage::encode);
  }
}

TEST(MessageHandler, RefusesTheWrongTypeNamingChannelAndBothTypes) {
  MessageHandler handler(video_registry(), {});
  corps::proto::Prediction prediction;
  try {
    (void)handler.encode("VideoStream", prediction);
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().code(), corps::Errc::type_mismatch);
    EXPECT_NE(e.error().message().find("'VideoStream' carries corps.proto.Image, not "
                                       "corps.proto.Prediction"),
              std::string::npos);
  }
  EXPECT_FALSE(prediction.has_message_data()) << "a refused message must not be stamped";
}

TEST(MessageHandler, StampsMetadataFoundUnderAnyName) {
  ChannelRegistry registry;
  registry.bind<corps_test::Reading>("Readings");
  MessageHandler handler(registry, {});
  corps_test::Reading reading;
  reading.set_value(21.5);
  ASSERT_TRUE(handler.encode("Readings", reading).ok());
  EXPECT_FALSE(reading.stamp().uuid().empty());
}

}  // namespace
