// Payload codecs beyond MessageCorps's zlib, chosen per producer and named in
// a record header, so that corps-to-corps channels can trade ratio for speed.
//
// A record without a `corps-codec` header is a zlib stream: MessageCorps's
// format, and what corps writes unless told otherwise. A producer set to
// another codec adds the header; every corps reader decodes every codec, with
// the same output cap and the same typed errors as for zlib. MessageCorps
// (Python) reads only zlib records: keep channels it reads on the default.
// The header is per record: a zstd or lz4 producer sends values too short
// to gain from a frame under `none` (CodecOptions::uncompressed_below).
//
//   zlib   RFC 1950 stream (default, no header)
//   none   the serialized message as is; for values that do not compress,
//          such as JPEG frames, or when the CPU matters more than the bytes
//   zstd   a Zstandard frame (RFC 8878), much faster than zlib at a similar
//          ratio
//   lz4    an LZ4 frame, the fastest, at a lower ratio
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/result.hpp"

namespace corps {

/// How a record's value is compressed.
enum class Codec {
  zlib,  ///< MessageCorps's format; the default and the meaning of no header
  none,  ///< not compressed
  zstd,  ///< Zstandard frame
  lz4,   ///< LZ4 frame
};

/// The header that names a record's codec; absent means zlib.
inline constexpr std::string_view codec_header = "corps-codec";

/// The codec's name as written in the header: "zlib", "none", "zstd", "lz4".
[[nodiscard]] std::string_view to_string(Codec codec) noexcept;

/// The codec a header value (or a command-line word) names, or nullopt.
[[nodiscard]] std::optional<Codec> parse_codec(std::string_view name) noexcept;

/// zstd and lz4 values shorter than this are sent as they are, under codec
/// `none`. On a short protobuf message a frame's header and checksum cost
/// more than compression saves (a 144-byte Prediction becomes 155 bytes as
/// zstd, 171 as lz4), and writing and reading each frame costs
/// microseconds. zlib has its own threshold (default_zlib_store_below),
/// since its values must stay zlib streams for MessageCorps.
inline constexpr std::size_t default_uncompressed_below = 256;

/// Compressor settings.
struct CodecOptions {
  Codec codec = Codec::zlib;
  /// zlib level: -1 (zlib's default, 6, as MessageCorps) or 0..9.
  int zlib_level = default_zlib_level;
  /// zlib values shorter than this are stored, not deflated (see
  /// default_zlib_store_below); 0 deflates every value.
  std::size_t zlib_store_below = default_zlib_store_below;
  /// Zstandard level, 1..19 (3 is zstd's own default; 1 is the fastest).
  int zstd_level = 1;
  /// zstd and lz4 values shorter than this are written with codec none (see
  /// default_uncompressed_below); 0 compresses every value.
  std::size_t uncompressed_below = default_uncompressed_below;
};

/// Compresses values with one codec, keeping its state between values.
/// Not thread-safe: one per thread.
class PayloadCompressor {
 public:
  /// Throws corps::Exception (Stage::config) for a level out of range.
  explicit PayloadCompressor(CodecOptions options = {});
  ~PayloadCompressor();
  PayloadCompressor(PayloadCompressor&&) noexcept;
  PayloadCompressor& operator=(PayloadCompressor&&) noexcept;

  /// `input` in the codec's format, in a buffer sized to fit.
  [[nodiscard]] Result<Payload> compress(std::string_view input,
                                         Compressibility compressibility = Compressibility::normal);

  /// The codec of CodecOptions::codec.
  [[nodiscard]] Codec codec() const noexcept { return options_.codec; }
  /// The codec compress() writes an `input_size`-byte value in: codec(), or
  /// none for a zstd or lz4 value shorter than uncompressed_below. A record's
  /// `corps-codec` header names this one.
  [[nodiscard]] Codec codec_for(std::size_t input_size) const noexcept;

 private:
  struct State;
  CodecOptions options_;
  std::unique_ptr<State> state_;
};

/// Decompresses values of any codec with a cap on output size, keeping each
/// codec's state between values. Not thread-safe: one per thread.
class PayloadDecompressor {
 public:
  PayloadDecompressor();
  ~PayloadDecompressor();
  PayloadDecompressor(PayloadDecompressor&&) noexcept;
  PayloadDecompressor& operator=(PayloadDecompressor&&) noexcept;

  /// Replaces `output` with the decoded `input`. Accepts exactly one
  /// complete stream or frame with nothing after it and at most `max_output`
  /// bytes of output; otherwise returns Stage::decompress with corrupt_data,
  /// truncated_data, trailing_data or too_large (no location: the caller
  /// knows the record). Memory stays within about twice the cap.
  Status decompress(Codec codec, std::string_view input, std::string& output,
                    std::size_t max_output);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corps
