// The decode fuzzer's input: one byte string describing one consumed record,
// so that libFuzzer varies the channel, the headers, the key and the value
// together. The seed generator (make_corpus.cpp) writes the same layout.
//
//   byte 0      flags: bits 0-2 the channel (decode_channels, modulo its size);
//               bit 3 compress the value before loading it, in the codec its
//               corps-codec header names (zlib without one), so mutations
//               reach the protobuf parser behind a valid frame; bit 4 the
//               small limits (inflate, header count and bytes); bit 5 a null
//               value (a tombstone);
//               bit 6 headers follow; bit 7 a key follows
//   headers     a count (modulo 8), then for each: name length, name,
//               value length (255: a null value), value
//   key         length, key
//   the rest    the record value
//
// Lengths are one byte. A field cut short by the end of the input ends there.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "corps/headers.hpp"

namespace corps::fuzz {

/// The channels a decode input can name. The last one is bound to nothing.
inline constexpr std::array<std::string_view, 6> decode_channels = {
    "Predictions",         // corps.proto.Prediction, generated
    "VideoStream",         // corps.proto.Image, generated
    "DeadLetters",         // corps.proto.DeadLetter, generated
    "DynamicPredictions",  // corps.proto.Prediction, dynamic (a pool of its own)
    "DynamicImages",       // corps.proto.Image, dynamic
    "Unbound",             // no type: every record fails at Stage::type
};

/// The inflate limit with the small-limits flag, and without it. The fuzzer
/// does not use the library's 64 MiB default: every execution would pay for it.
inline constexpr std::size_t small_inflate_limit = 4096;
inline constexpr std::size_t large_inflate_limit = std::size_t{1} << 20;
/// The header limits with the small-limits flag, low enough for an input to
/// cross them; without it, the library's defaults.
inline constexpr std::size_t small_header_count_limit = 4;
inline constexpr std::size_t small_header_bytes_limit = 256;

/// One record, as the fuzzer feeds it to MessageLoader.
struct DecodeInput {
  std::size_t channel = 0;  ///< index into decode_channels
  bool compress = false;    ///< compress `value` (in its header's codec) before loading
  bool small_limits = false;
  bool null_value = false;
  std::optional<Headers> headers;
  std::optional<std::string> key;
  std::string value;
};

/// The channel `input` names.
[[nodiscard]] inline std::string_view channel_name(const DecodeInput& input) {
  return decode_channels[input.channel % decode_channels.size()];
}

/// Reads any byte string as a DecodeInput; never fails.
[[nodiscard]] DecodeInput read_decode_input(std::string_view bytes);

/// The bytes that read_decode_input() reads back as `input` (names, values
/// and keys longer than 254 bytes are cut, headers beyond 7 dropped).
[[nodiscard]] std::string write_decode_input(const DecodeInput& input);

}  // namespace corps::fuzz
