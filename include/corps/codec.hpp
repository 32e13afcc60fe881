// The payload codec: how a record's value is compressed and read back.
//
// A record without a `corps-codec` header is a zlib stream (RFC 1950): the
// format MessageCorps writes with `zlib.compress` and reads with
// `zlib.decompress`, and what corps writes unless told otherwise. A producer
// set to another codec adds the header; every corps reader decodes every
// codec, with the same output cap and the same typed errors. MessageCorps
// (Python) reads only zlib records: keep channels it reads on the default.
// The header is per record: a zstd or lz4 producer sends values too short to
// gain from a frame under `none` (CodecOptions::uncompressed_below).
//
//   zlib   RFC 1950 stream (default, no header); values under 256 bytes are
//          stored, not deflated (default_zlib_store_below)
//   none   the serialized message as is; for values that do not compress,
//          such as JPEG frames, or when the CPU matters more than the bytes
//   zstd   a Zstandard frame (RFC 8878), much faster than zlib at a similar
//          ratio
//   lz4    an LZ4 frame, the fastest, at a lower ratio
//
// Each compressor and decompressor allocates its codec's state once and
// reuses it for every value, and decompression is bounded: a value that
// would decode past the cap stops there with Errc::too_large, having used at
// most about twice the cap in memory. The codecs themselves are in
// src/detail/ (zlib_codec, zstd_codec, lz4_codec), around one bounded-output
// loop (detail/bounded_output.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corps/result.hpp"

namespace corps {

/// A malloc-owned byte buffer. Its storage can be handed to C code that frees
/// it with free() (librdkafka's RD_KAFKA_MSG_F_FREE), saving a copy.
class Payload {
 public:
  Payload() = default;
  /// A buffer of `capacity` bytes and size 0. Throws std::bad_alloc.
  [[nodiscard]] static Payload with_capacity(std::size_t capacity);

  /// The bytes; nullptr for an empty, never-allocated payload.
  [[nodiscard]] char* data() noexcept { return data_.get(); }
  [[nodiscard]] const char* data() const noexcept { return data_.get(); }
  /// How many bytes are in use.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// How many bytes are allocated.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// The bytes in use, valid while the payload lives and is not released.
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }
  /// Sets the size; `size` must not exceed capacity().
  void set_size(std::size_t size) noexcept { size_ = size; }
  /// Gives up ownership; the caller must free() the result.
  [[nodiscard]] char* release() noexcept {
    size_ = capacity_ = 0;
    return data_.release();
  }

 private:
  struct Free {
    void operator()(char* p) const noexcept { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// zlib's default level (6), the level of Python's zlib.compress(data, -1).
inline constexpr int default_zlib_level = -1;

/// Values shorter than this are written as stored zlib blocks (as level 0
/// would), which every zlib reader, MessageCorps's included, reads. Deflate
/// spends about 5 µs building its Huffman codes whatever the input's size,
/// and on a protobuf message this short saves a few bytes at most: a
/// 197-byte Prediction deflates to 199 at level 6, a 290-byte one to 272.
/// Stored, the value costs 11 bytes of framing and almost no time to write
/// or to read.
inline constexpr std::size_t default_zlib_store_below = 256;

/// Whether a value is worth compressing.
enum class Compressibility {
  /// Compressed as the codec and its level say.
  normal,
  /// Its bulk is compressed already (a JPEG image, say): deflate would spend
  /// milliseconds to gain nothing, so zlib stores it instead, in the same
  /// zlib format. zstd and lz4, which pass incompressible data through
  /// quickly, compress it as usual.
  already_compressed,
};

/// How a record's value is compressed.
enum class Codec {
  zlib,  ///< MessageCorps's format; the default and the meaning of no header
  none,  ///< not compressed
  zstd,  ///< Zstandard frame
  lz4,   ///< LZ4 frame
};

/// The header that names a record's codec; absent means zlib.
inline constexpr std::string_view codec_header = "corps-codec";

/// Every codec, in the order they are listed to users.
inline constexpr std::array<Codec, 4> all_codecs = {Codec::zlib, Codec::none, Codec::zstd,
                                                    Codec::lz4};

/// The codec's name as written in the header: "zlib", "none", "zstd", "lz4".
[[nodiscard]] std::string_view to_string(Codec codec) noexcept;

/// Every codec's name, in all_codecs's order: for command-line checks.
[[nodiscard]] std::vector<std::string> codec_names();

/// The names as a list in prose, "zlib, none, zstd and lz4", for messages.
[[nodiscard]] std::string codec_names_text();

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
  /// The same, decoded into a buffer this decompressor keeps and reuses,
  /// valid until its next call: what a reader that parses the bytes at once
  /// needs, with no copy out, and (for zlib) a buffer that is not
  /// zero-filled as it grows.
  Result<std::string_view> decompress_view(Codec codec, std::string_view input,
                                           std::size_t max_output);

  /// The bytes decompress_view() keeps between values, every codec's
  /// buffers together: what one decoder costs while idle.
  [[nodiscard]] std::size_t view_bytes_held() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corps
