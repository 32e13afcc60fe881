// Confluent's framing of a protobuf value, as a Schema Registry's
// serializers write it (Java's KafkaProtobufSerializer, confluent-kafka's
// ProtobufSerializer):
//
//   byte 0      magic byte 0x00
//   bytes 1-4   schema id, big-endian
//   then        the message indexes: the path of the message type inside its
//               .proto file (top-level position, then nested positions),
//               written as a count followed by the indexes; the common path
//               [0] (the file's first message) is the single byte 0x00
//   then        the serialized message, not compressed by the framing
//
// Two encodings of the indexes exist. Confluent's serializers write each
// number as a zigzag varint (Kafka's ByteUtils.writeVarint); confluent-kafka
// for Python before 1.8 (Debian bookworm ships 1.7.0) writes plain unsigned
// varints. Both write [0] as 0x00. A reader that is told which to expect
// reads only that one. read_confluent_frame without it guesses from the
// bytes alone: zigzag unless they cannot be zigzag (a negative count or
// index, or a message that would then start with a byte no protobuf message
// starts with, 0x00 to 0x07: field number 0), then plain; a plain writer's
// path with a nested index of 8 or more fools it. MessageLoader does not
// guess: it reads both ways and lets the schema decide, then
// LoaderOptions::message_index_encoding.
//
// A protobuf message never starts with byte 0x00 (field number 0 does not
// exist) and a zlib stream starts with its CMF byte (0x78 for MessageCorps's
// values), so the first byte tells a Confluent-framed value from the others.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corps/headers.hpp"
#include "corps/result.hpp"

namespace corps {

/// The first byte of a Confluent-framed value.
inline constexpr char confluent_magic_byte = 0x00;

/// How the message indexes' numbers are written.
enum class MessageIndexEncoding {
  zigzag,  ///< Confluent's serializers (Kafka's ByteUtils.writeVarint)
  plain,   ///< unsigned varints: confluent-kafka for Python before 1.8
};

/// The most message indexes a reader accepts: far deeper nesting than any
/// .proto file has, and a bound on what a hostile count costs.
inline constexpr std::size_t max_message_indexes = 64;

/// A Confluent-framed value, taken apart. Views into the value read.
struct ConfluentFrame {
  std::int32_t schema_id = 0;
  /// The path of the message type in its file; [0] is the first message.
  std::vector<int> message_indexes;
  /// The serialized message.
  std::string_view payload;
};

/// The path of `type` inside its file: its position among the file's
/// top-level messages, then among each enclosing message's nested types.
[[nodiscard]] std::vector<int> message_index_path(const google::protobuf::Descriptor& type);

/// The message `path` names in `file`, or nullptr if it names none.
[[nodiscard]] const google::protobuf::Descriptor* message_at_path(
    const google::protobuf::FileDescriptor& file, std::span<const int> path);

/// Appends the framing's prefix (magic byte, schema id, message indexes)
/// to `out`; the serialized message goes after it.
void append_confluent_prefix(std::string& out, std::int32_t schema_id, std::span<const int> path,
                             MessageIndexEncoding encoding = MessageIndexEncoding::zigzag);

/// Whether a record with `value` and `headers` is Confluent-framed: no
/// corps-codec header (which, when there is one, says how to read the
/// value), and byte 0 first.
[[nodiscard]] bool is_confluent_framed(std::string_view value, const Headers& headers) noexcept;

/// Takes a Confluent-framed value apart, its indexes read in `encoding`.
/// Fails with Stage::framing: corrupt_data for another magic byte or an
/// index that is negative or not a varint, truncated_data for a value that
/// ends inside the prefix, too_large for more than max_message_indexes.
[[nodiscard]] Result<ConfluentFrame> read_confluent_frame(std::string_view value,
                                                          MessageIndexEncoding encoding);

/// The same, telling the encoding from the bytes: zigzag, unless they
/// cannot be zigzag, then plain (see the top of this header).
[[nodiscard]] Result<ConfluentFrame> read_confluent_frame(std::string_view value);

}  // namespace corps
