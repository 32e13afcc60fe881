// libFuzzer target: the dead-letter round trip. Each input is one consumed
// record (decode_input.hpp: channel, headers, key, value); it is decoded as
// the consumer decodes it, and whatever the outcome, written as a letter
// (make_dead_letter), as a truncated letter (truncate_dead_letter), and read
// back as the dead-letter channel's readers and `corps replay` read it.
//
// The contract checked on every input:
// - the letter serializes and parses back as a corps.proto.DeadLetter,
//   whatever bytes the record's key, headers, value and error hold (proto3
//   strings must be UTF-8, or the parse refuses them);
// - it keeps the record whole: coordinates, timestamp, key (or its absence),
//   every header's exact name bytes and value (or null), the value (or null),
//   and the error's stage and code;
// - the truncated letter parses back too, holds none of the record's bytes,
//   and says their sizes and the value's SHA-256;
// - the JSON `corps consume` prints of the letter is one valid JSON object.
// A breach prints what was expected and aborts; libFuzzer saves the input.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <sstream>
#include <string>

#include "corps/dead_letter.hpp"
#include "corps/image.pb.h"
#include "corps/message_loader.hpp"
#include "corps/prediction.pb.h"
#include "corps/record.hpp"
#include "corps/testing/records.hpp"
#include "decode_input.hpp"
#include "record_printer.hpp"

namespace {

namespace pb = google::protobuf;
using Decoded = corps::Result<std::unique_ptr<pb::Message>>;

constexpr std::int32_t record_partition = 5;
constexpr std::int64_t record_offset = 1234;
constexpr std::int64_t record_timestamp = 1700000000123;

[[noreturn]] void breach(const std::string& what) {
  std::fprintf(stderr, "dead_letter_fuzzer: contract broken: %s\n", what.c_str());
  std::abort();
}

void expect(bool holds, const std::string& what) {
  if (!holds) breach(what);
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  expect(EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) == 1,
         "SHA-256 failed");
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += digits[digest[i] >> 4];
    hex += digits[digest[i] & 15];
  }
  return hex;
}

struct Session {
  corps::ChannelRegistry registry = [] {
    using corps::fuzz::decode_channels;
    corps::ChannelRegistry r;
    r.bind<corps::proto::Prediction>(std::string(decode_channels[0]));
    r.bind<corps::proto::Image>(std::string(decode_channels[1]));
    return r;
  }();
  corps::MessageLoader loader{registry, {.max_decompressed_bytes = 1 << 20}};
};

// The letter as read back from the channel: its bytes parsed again.
corps::proto::DeadLetter read_back(const corps::proto::DeadLetter& letter, const char* which) {
  std::string bytes;
  expect(letter.SerializeToString(&bytes), std::string(which) + " letter does not serialize");
  corps::proto::DeadLetter parsed;
  expect(parsed.ParseFromString(bytes),
         std::string(which) + " letter does not parse back: " + letter.ShortDebugString());
  return parsed;
}

void check_whole(const corps::Record& record, const corps::Error& error,
                 const corps::proto::DeadLetter& letter) {
  expect(letter.topic() == record.topic() && letter.partition() == record.partition() &&
             letter.offset() == record.offset(),
         "the letter's coordinates are not the record's");
  expect(letter.timestamp_ms() == record.timestamp_ms(), "the letter lost the record's timestamp");
  expect(letter.has_key() == record.key().has_value() &&
             (!record.key() || letter.key() == *record.key()),
         "the letter's key is not the record's");
  expect(letter.null_value() == !record.value().has_value() &&
             (!record.value() || letter.value() == *record.value()),
         "the letter's value is not the record's");
  expect(letter.headers_size() == static_cast<int>(record.headers().size()),
         "the letter has " + std::to_string(letter.headers_size()) + " headers, the record " +
             std::to_string(record.headers().size()));
  for (int i = 0; i < letter.headers_size(); ++i) {
    const auto& kept = letter.headers(i);
    const auto& header = record.headers()[static_cast<std::size_t>(i)];
    expect(corps::header_name(kept) == header.name,
           "header " + std::to_string(i) + "'s name did not survive");
    expect(kept.null_value() == !header.value.has_value() &&
               (!header.value || kept.value() == *header.value),
           "header " + std::to_string(i) + "'s value did not survive");
  }
  expect(letter.stage() == corps::to_string(error.stage()) &&
             letter.code() == corps::to_string(error.code()),
         "the letter's stage and code are not the error's");
  expect(!letter.truncated(), "a letter made whole says it is truncated");
}

void check_truncated(const corps::Record& record, const corps::proto::DeadLetter& letter) {
  expect(letter.truncated(), "a truncated letter does not say so");
  expect(letter.value().empty() && letter.key().empty() && letter.headers_size() == 0,
         "a truncated letter still holds record bytes");
  const auto value = record.value();
  expect(letter.value_size() == (value ? static_cast<std::int64_t>(value->size()) : -1),
         "a truncated letter's value size is wrong");
  expect(letter.value_sha256() == (value ? sha256_hex(*value) : std::string()),
         "a truncated letter's SHA-256 is wrong");
  expect(letter.key_size() == (record.key() ? static_cast<std::int64_t>(record.key()->size()) : -1),
         "a truncated letter's key size is wrong");
  expect(letter.header_count() == static_cast<int>(record.headers().size()),
         "a truncated letter's header count is wrong");
  expect(letter.offset() == record.offset(), "a truncated letter lost the coordinates");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Session session;
  const auto input = corps::fuzz::read_decode_input({reinterpret_cast<const char*>(data), size});
  try {
    const std::string topic(corps::fuzz::channel_name(input));
    const corps::RawRecord raw{topic,
                               record_partition,
                               record_offset,
                               input.null_value ? nullptr : input.value.data(),
                               input.null_value ? 0 : input.value.size(),
                               input.headers ? &*input.headers : nullptr};
    Decoded decoded = session.loader.load(raw);
    // A record that decoded is dead-lettered for a handler's failure, whose
    // text quotes the record's bytes, as a handler's what() may.
    const corps::Error error =
        decoded.ok() ? corps::Error(corps::Errc::handler_failed, corps::Stage::handler,
                                    "the handler refused \"" + input.value + "\"",
                                    corps::RecordLocation{topic, record_partition, record_offset})
                     : decoded.error();
    const auto* binding = session.registry.find(topic);
    const corps::Record record = corps::testing::make_record(
        {corps::RecordLocation{topic, record_partition, record_offset}, input.key,
         input.null_value ? std::nullopt : std::optional<std::string>(input.value),
         input.headers.value_or(corps::Headers{}), record_timestamp},
        std::move(decoded), binding);

    // The group and service come from configuration: any bytes, too.
    const std::string group = input.key.value_or("group");
    const auto letter = corps::make_dead_letter(record, error, 3, group, input.value);
    const auto parsed = read_back(letter, "a whole");
    check_whole(record, error, parsed);
    check_truncated(record, read_back(corps::truncate_dead_letter(parsed), "a truncated"));

    // What `corps consume DeadLetters` prints of it.
    std::string bytes;
    (void)parsed.SerializeToString(&bytes);
    corps::ChannelRegistry letters;
    letters.bind<corps::proto::DeadLetter>("DeadLetters");
    auto message = std::make_unique<corps::proto::DeadLetter>(parsed);
    message->mutable_message_data()->set_uuid("stamped when sent");
    const corps::Record printed = corps::testing::make_record(
        {corps::RecordLocation{"DeadLetters", 0, 0}, std::nullopt, bytes, {}, record_timestamp},
        Decoded(std::move(message)), letters.find("DeadLetters"));
    std::ostringstream json;
    corps::cli::RecordPrinter(json, json, corps::cli::OutputFormat::json).print(printed);
    pb::Struct object;
    expect(pb::util::JsonStringToMessage(json.str(), &object).ok(),
           "the JSON of the letter is not a JSON object: " + json.str());
  } catch (const std::exception& e) {
    breach(std::string("an exception escaped: ") + e.what());
  }
  return 0;
}
