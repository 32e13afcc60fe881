// zlib streams (RFC 1950), the format MessageCorps writes with
// `zlib.compress` and reads with `zlib.decompress`: codec zlib of
// corps::PayloadCompressor and PayloadDecompressor (corps/codec.hpp).
//
// The work is libdeflate's, about twice as fast as zlib both ways, except for
// values under 2 KiB, which zlib deflates faster (corps_bench
// --compare-zlib-backends); zlib also classifies a stream libdeflate refuses.
// Each object allocates its state once and reuses it for every value.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/result.hpp"

namespace corps::detail {

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
  /// The same, inflated into a buffer of the decompressor's own, valid until
  /// its next call. That buffer is not zero-filled as it grows, as a
  /// std::string's is: a 921 kB frame sized for four times its 665 kB
  /// input cost 1.7 MB of memset a value.
  Result<std::string_view> decompress_view(std::string_view input, std::size_t max_output);
  /// The memory decompress_view() holds between values (its buffers'
  /// capacities): what a refused bomb must not leave behind.
  [[nodiscard]] std::size_t view_bytes_held() const noexcept;
  /// Lets go of decompress_view()'s buffers unless they are small: for a
  /// caller whose next values are of another codec, which would otherwise
  /// keep a bomb's or a huge value's buffer for good.
  void release_large_view_buffers() noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace corps::detail
