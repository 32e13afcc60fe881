// The payload codec: zlib streams (RFC 1950), the format MessageCorps writes
// with `zlib.compress` and reads with `zlib.decompress`.
//
// The work is libdeflate's, about twice as fast as zlib both ways, except for
// values under 2 KiB, which zlib deflates faster (corps_bench
// --compare-zlib-backends); zlib also classifies a stream libdeflate refuses.
// Values under 256 bytes are stored, not deflated (see
// default_zlib_store_below).
// Each object allocates its compressor or decompressor state once and reuses
// it for every record, and decompression is bounded: a stream that would
// inflate past the cap stops there with Errc::too_large, having used at most
// twice the cap in memory.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

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

/// Compresses into zlib streams, reusing one deflate state.
/// Not thread-safe: one compressor per thread.
class ZlibCompressor {
 public:
  /// `level` is -1 (default, 6) or 0..9; throws corps::Exception otherwise.
  /// Inputs shorter than `store_below` bytes are stored, not deflated; 0
  /// deflates everything at `level`.
  explicit ZlibCompressor(int level = default_zlib_level,
                          std::size_t store_below = default_zlib_store_below);
  ~ZlibCompressor();
  ZlibCompressor(ZlibCompressor&&) noexcept;
  ZlibCompressor& operator=(ZlibCompressor&&) noexcept;

  /// `input` as one complete zlib stream, in a buffer sized to fit: stored
  /// if it is short or already compressed, deflated otherwise.
  [[nodiscard]] Result<Payload> compress(std::string_view input,
                                         Compressibility compressibility = Compressibility::normal);

  /// The level in use.
  [[nodiscard]] int level() const noexcept { return level_; }
  /// Inputs shorter than this are stored.
  [[nodiscard]] std::size_t store_below() const noexcept { return store_below_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  int level_;
  std::size_t store_below_;
};

/// Inflates zlib streams with a cap on output size, reusing one inflate state.
/// Not thread-safe: one decompressor per thread.
class ZlibDecompressor {
 public:
  ZlibDecompressor();
  ~ZlibDecompressor();
  ZlibDecompressor(ZlibDecompressor&&) noexcept;
  ZlibDecompressor& operator=(ZlibDecompressor&&) noexcept;

  /// Replaces `output` with the inflated `input`. Accepts exactly one complete
  /// zlib stream with nothing after it and at most `max_output` bytes of
  /// output; otherwise returns Stage::decompress with corrupt_data,
  /// truncated_data, trailing_data or too_large (no location: the caller
  /// knows the record).
  Status decompress(std::string_view input, std::string& output, std::size_t max_output);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corps
