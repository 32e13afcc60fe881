// Confluent's framing of protobuf values: the bytes Confluent's serializers
// write, both encodings of the message indexes, and what a reader says of
// values that are not so framed. descriptor.proto's own types give nested
// messages at known paths (DescriptorProto is the third message of its
// file, ExtensionRange the first nested in it).
#include "corps/confluent_framing.hpp"

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using corps::MessageIndexEncoding;
namespace pb = google::protobuf;

std::string prefix(std::int32_t id, const std::vector<int>& path,
                   MessageIndexEncoding encoding = MessageIndexEncoding::zigzag) {
  std::string out;
  corps::append_confluent_prefix(out, id, path, encoding);
  return out;
}

TEST(ConfluentFraming, TheFirstMessageOfAFileIsOneZeroAfterTheId) {
  EXPECT_EQ(prefix(42, {0}), std::string("\x00\x00\x00\x00\x2a\x00", 6));
  EXPECT_EQ(prefix(42, {0}, MessageIndexEncoding::plain),
            std::string("\x00\x00\x00\x00\x2a\x00", 6));
  EXPECT_EQ(prefix(0x01020304, {0}).substr(1, 4), "\x01\x02\x03\x04");
}

TEST(ConfluentFraming, OtherPathsAreACountThenTheIndexesInEitherEncoding) {
  // [2, 0]: count 2, then 2, then 0. Zigzag doubles each number.
  EXPECT_EQ(prefix(1, {2, 0}).substr(5), std::string("\x04\x04\x00", 3));
  EXPECT_EQ(prefix(1, {2, 0}, MessageIndexEncoding::plain).substr(5),
            std::string("\x02\x02\x00", 3));
  // [1]: a single index that is not 0 still needs its count.
  EXPECT_EQ(prefix(1, {1}).substr(5), "\x02\x02");
  // Past 63 a zigzag number takes two bytes: 64 is 128, 0x80 0x01.
  EXPECT_EQ(prefix(1, {64}).substr(5), "\x02\x80\x01");
}

TEST(ConfluentFraming, APathNamesTheMessageInItsFile) {
  const auto* range = pb::DescriptorProto::ExtensionRange::descriptor();
  EXPECT_EQ(corps::message_index_path(*range), (std::vector<int>{2, 0}));
  EXPECT_EQ(corps::message_index_path(*pb::FileDescriptorSet::descriptor()), (std::vector<int>{0}));
  const auto& file = *range->file();
  EXPECT_EQ(corps::message_at_path(file, std::vector<int>{2, 0}), range);
  EXPECT_EQ(corps::message_at_path(file, std::vector<int>{0}), pb::FileDescriptorSet::descriptor());
  EXPECT_EQ(corps::message_at_path(file, std::vector<int>{2, 99}), nullptr);
  EXPECT_EQ(corps::message_at_path(file, std::vector<int>{-1}), nullptr);
  EXPECT_EQ(corps::message_at_path(file, std::vector<int>{}), nullptr);
}

TEST(ConfluentFraming, ReadsBackWhatItWrote) {
  pb::DescriptorProto::ExtensionRange message;
  message.set_start(5);
  message.set_end(9);
  const std::string serialized = message.SerializeAsString();
  for (const auto encoding : {MessageIndexEncoding::zigzag, MessageIndexEncoding::plain}) {
    for (const std::vector<int>& path : {std::vector<int>{0}, {2, 0}, {1}, {3, 70, 1}}) {
      const std::string value = prefix(123456, path, encoding) + serialized;
      for (const auto& frame :
           {corps::read_confluent_frame(value, encoding), corps::read_confluent_frame(value)}) {
        ASSERT_TRUE(frame.ok()) << frame.error().to_string();
        EXPECT_EQ(frame->schema_id, 123456);
        EXPECT_EQ(frame->message_indexes, path);
        EXPECT_EQ(frame->payload, serialized);
      }
    }
  }
}

// What confluent-kafka 1.7.0 for Python writes for a nested message: plain
// varints. Read as zigzag its count would be 1 and the message would start
// with 0x00, which no protobuf message does: the reader takes plain.
TEST(ConfluentFraming, TellsThePlainEncodingOfOlderPythonClientsFromTheBytes) {
  const std::string value = std::string("\x00\x00\x00\x00\x07\x02\x02\x00", 8) + "\x08\x05";
  const auto frame = corps::read_confluent_frame(value);
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  EXPECT_EQ(frame->message_indexes, (std::vector<int>{2, 0}));
  EXPECT_EQ(frame->payload, "\x08\x05");
  // [1] in plain is 0x01 0x01: a negative count in zigzag.
  const auto second = corps::read_confluent_frame(std::string("\x00\x00\x00\x00\x07\x01\x01", 7));
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->message_indexes, (std::vector<int>{1}));
}

TEST(ConfluentFraming, AValueNotSoFramedIsATypedFramingError) {
  const auto error_of = [](std::string_view value) {
    const auto frame = corps::read_confluent_frame(value, MessageIndexEncoding::zigzag);
    EXPECT_FALSE(frame.ok());
    if (frame.ok()) return corps::Error(corps::Errc::invalid_argument, corps::Stage::config, "");
    EXPECT_EQ(frame.error().stage(), corps::Stage::framing);
    return frame.error();
  };
  // A MessageCorps value: a zlib stream.
  const auto zlib = error_of("\x78\x9c\x01\x02\x03\x04\x05");
  EXPECT_EQ(zlib.code(), corps::Errc::corrupt_data);
  EXPECT_NE(zlib.message().find("magic byte 120"), std::string::npos) << zlib.message();
  EXPECT_EQ(error_of("").code(), corps::Errc::corrupt_data);
  EXPECT_EQ(error_of(std::string("\x00\x00\x00\x01", 4)).code(), corps::Errc::truncated_data);
  // A count of 3 with one index after it.
  EXPECT_EQ(error_of(std::string("\x00\x00\x00\x00\x01\x06\x02", 7)).code(),
            corps::Errc::truncated_data);
  // An absurd count: 2^27 indexes announced.
  EXPECT_EQ(error_of(std::string("\x00\x00\x00\x00\x01\x80\x80\x80\x80\x01", 10)).code(),
            corps::Errc::too_large);
  // A count that is not a varint of 32 bits.
  EXPECT_EQ(error_of(std::string("\x00\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\x01", 12)).code(),
            corps::Errc::corrupt_data);
  // A negative index.
  EXPECT_EQ(error_of(std::string("\x00\x00\x00\x00\x01\x02\x01", 7)).code(),
            corps::Errc::corrupt_data);
}

}  // namespace
