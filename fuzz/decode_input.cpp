#include "decode_input.hpp"

#include <algorithm>

namespace corps::fuzz {

namespace {

constexpr unsigned channel_bits = 0x07;
constexpr unsigned compress_bit = 1U << 3;
constexpr unsigned small_limits_bit = 1U << 4;
constexpr unsigned null_value_bit = 1U << 5;
constexpr unsigned headers_bit = 1U << 6;
constexpr unsigned key_bit = 1U << 7;
constexpr std::size_t max_headers = 8;
constexpr unsigned char null_length = 255;

// Reads length-prefixed fields off the front of the input.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  std::optional<unsigned char> byte() {
    if (rest_.empty()) return std::nullopt;
    const auto value = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    return value;
  }
  std::string bytes(std::size_t length) {
    length = std::min(length, rest_.size());
    std::string value(rest_.substr(0, length));
    rest_.remove_prefix(length);
    return value;
  }
  [[nodiscard]] std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

void write_field(std::string& out, std::string_view field) {
  field = field.substr(0, null_length - 1);
  out += static_cast<char>(field.size());
  out += field;
}

}  // namespace

DecodeInput read_decode_input(std::string_view bytes) {
  DecodeInput input;
  Reader reader(bytes);
  const unsigned flags = reader.byte().value_or(0);
  input.channel = (flags & channel_bits) % decode_channels.size();
  input.compress = (flags & compress_bit) != 0;
  input.small_limits = (flags & small_limits_bit) != 0;
  input.null_value = (flags & null_value_bit) != 0;
  if ((flags & headers_bit) != 0) {
    input.headers.emplace();
    const std::size_t count = reader.byte().value_or(0) % max_headers;
    for (std::size_t i = 0; i < count; ++i) {
      Header header;
      header.name = reader.bytes(reader.byte().value_or(0));
      const auto length = reader.byte();
      if (length && *length != null_length) header.value = reader.bytes(*length);
      input.headers->push_back(std::move(header));
    }
  }
  if ((flags & key_bit) != 0) input.key = reader.bytes(reader.byte().value_or(0));
  input.value = std::string(reader.rest());
  return input;
}

std::string write_decode_input(const DecodeInput& input) {
  unsigned flags = static_cast<unsigned>(input.channel % decode_channels.size());
  if (input.compress) flags |= compress_bit;
  if (input.small_limits) flags |= small_limits_bit;
  if (input.null_value) flags |= null_value_bit;
  if (input.headers) flags |= headers_bit;
  if (input.key) flags |= key_bit;
  std::string out(1, static_cast<char>(flags));
  if (input.headers) {
    const std::size_t count = std::min(input.headers->size(), max_headers - 1);
    out += static_cast<char>(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Header& header = (*input.headers)[i];
      write_field(out, header.name);
      if (header.value) {
        write_field(out, *header.value);
      } else {
        out += static_cast<char>(null_length);
      }
    }
  }
  if (input.key) write_field(out, *input.key);
  out += input.value;
  return out;
}

}  // namespace corps::fuzz
