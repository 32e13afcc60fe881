#include "corps/confluent_framing.hpp"

#include <optional>

#include "corps/codec.hpp"

namespace corps {

namespace pb = google::protobuf;

namespace {

void append_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

// The bytes after the schema id, read one number at a time.
class IndexReader {
 public:
  IndexReader(std::string_view bytes, MessageIndexEncoding encoding)
      : bytes_(bytes), encoding_(encoding) {}

  // The next number, or an error naming what was wrong with it.
  Result<std::int64_t> next(std::string_view what) {
    std::uint64_t raw = 0;
    for (int shift = 0;; shift += 7) {
      if (shift > 28) {
        return Error(Errc::corrupt_data, Stage::framing,
                     std::string(what) + " at byte " + std::to_string(5 + start_) +
                         " is not a varint of at most 32 bits");
      }
      if (position_ >= bytes_.size()) {
        return Error(Errc::truncated_data, Stage::framing,
                     "the value ends inside the message indexes, reading " + std::string(what) +
                         " at byte " + std::to_string(5 + start_));
      }
      const auto byte = static_cast<unsigned char>(bytes_[position_++]);
      raw |= std::uint64_t{byte & 0x7Fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    start_ = position_;
    if (encoding_ == MessageIndexEncoding::plain) return static_cast<std::int64_t>(raw);
    // zigzag: 0, -1, 1, -2, ... are 0, 1, 2, 3, ...
    return static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
  }

  [[nodiscard]] std::size_t position() const noexcept { return position_; }

 private:
  std::string_view bytes_;
  MessageIndexEncoding encoding_;
  std::size_t position_ = 0;
  std::size_t start_ = 0;
};

std::string_view encoding_name(MessageIndexEncoding encoding) {
  return encoding == MessageIndexEncoding::zigzag ? "zigzag" : "plain";
}

// Whether `payload` may be a serialized protobuf message: empty, or
// starting with a tag whose field number is not 0.
bool may_start_a_message(std::string_view payload) {
  if (payload.empty()) return true;
  const auto first = static_cast<unsigned char>(payload.front());
  return first >= 0x08;
}

}  // namespace

std::vector<int> message_index_path(const pb::Descriptor& type) {
  std::vector<int> path;
  for (const pb::Descriptor* at = &type; at != nullptr; at = at->containing_type()) {
    path.push_back(at->index());
  }
  return {path.rbegin(), path.rend()};
}

const pb::Descriptor* message_at_path(const pb::FileDescriptor& file, std::span<const int> path) {
  if (path.empty() || path.front() < 0 || path.front() >= file.message_type_count()) {
    return nullptr;
  }
  const pb::Descriptor* message = file.message_type(path.front());
  for (const int index : path.subspan(1)) {
    if (index < 0 || index >= message->nested_type_count()) return nullptr;
    message = message->nested_type(index);
  }
  return message;
}

void append_confluent_prefix(std::string& out, std::int32_t schema_id, std::span<const int> path,
                             MessageIndexEncoding encoding) {
  out += confluent_magic_byte;
  const auto id = static_cast<std::uint32_t>(schema_id);
  for (const int shift : {24, 16, 8, 0}) out += static_cast<char>((id >> shift) & 0xFF);
  if (path.size() == 1 && path.front() == 0) {
    out += '\0';
    return;
  }
  const auto write = [&](std::int64_t number) {
    append_varint(out, encoding == MessageIndexEncoding::zigzag
                           ? static_cast<std::uint64_t>((number << 1) ^ (number >> 63))
                           : static_cast<std::uint64_t>(number));
  };
  write(static_cast<std::int64_t>(path.size()));
  for (const int index : path) write(index);
}

bool is_confluent_framed(std::string_view value, const Headers& headers) noexcept {
  return !value.empty() && value.front() == confluent_magic_byte &&
         find_header(headers, codec_header) == nullptr;
}

Result<ConfluentFrame> read_confluent_frame(std::string_view value, MessageIndexEncoding encoding) {
  if (value.empty() || value.front() != confluent_magic_byte) {
    return Error(Errc::corrupt_data, Stage::framing,
                 value.empty()
                     ? std::string("an empty value has no schema id")
                     : "magic byte " + std::to_string(static_cast<unsigned char>(value.front())) +
                           " where a schema registry's framing has 0");
  }
  if (value.size() < 6) {
    return Error(Errc::truncated_data, Stage::framing,
                 std::to_string(value.size()) +
                     " bytes: too short for a magic byte, a schema id and message indexes");
  }
  ConfluentFrame frame;
  std::uint32_t id = 0;
  for (std::size_t i = 1; i <= 4; ++i) id = (id << 8) | static_cast<unsigned char>(value[i]);
  frame.schema_id = static_cast<std::int32_t>(id);

  IndexReader reader(value.substr(5), encoding);
  const auto count = reader.next("the index count");
  if (!count.ok()) return count.error();
  if (*count < 0) {
    return Error(Errc::corrupt_data, Stage::framing,
                 "message index count " + std::to_string(*count) + " read as " +
                     std::string(encoding_name(encoding)) + " varints");
  }
  if (static_cast<std::uint64_t>(*count) > max_message_indexes) {
    return Error(Errc::too_large, Stage::framing,
                 "message index count " + std::to_string(*count) + " is above " +
                     std::to_string(max_message_indexes));
  }
  if (*count == 0) {
    frame.message_indexes = {0};  // the first message: [0] written as one 0
  }
  for (std::int64_t i = 0; i < *count; ++i) {
    const auto index = reader.next("message index " + std::to_string(i));
    if (!index.ok()) return index.error();
    if (*index < 0 || *index > INT32_MAX) {
      return Error(Errc::corrupt_data, Stage::framing,
                   "message index " + std::to_string(i) + " is " + std::to_string(*index) +
                       ", read as " + std::string(encoding_name(encoding)) + " varints");
    }
    frame.message_indexes.push_back(static_cast<int>(*index));
  }
  frame.payload = value.substr(5 + reader.position());
  return frame;
}

Result<ConfluentFrame> read_confluent_frame(std::string_view value) {
  auto zigzag = read_confluent_frame(value, MessageIndexEncoding::zigzag);
  if (zigzag.ok() && may_start_a_message(zigzag->payload)) return zigzag;
  auto plain = read_confluent_frame(value, MessageIndexEncoding::plain);
  if (plain.ok() && may_start_a_message(plain->payload)) return plain;
  return zigzag;
}

}  // namespace corps
