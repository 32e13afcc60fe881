// What every decompressor shares: how it sizes its output under the cap, and
// how it words the failures the cap and the stream's end make.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "corps/error.hpp"

namespace corps::detail {

inline Error decompress_error(Errc code, std::string message) {
  return Error(code, Stage::decompress, std::move(message));
}

// How a decoder sizes the caller's buffer, which it reuses from value to
// value: room for a ratio of 4 or for what the last value decoded to,
// whichever is more, and at most one byte beyond the cap, which tells
// "exactly the cap" from "more than the cap". A buffer much larger than that
// (grown by a bomb refused at the cap, or by one huge value) is released
// first: kept, it would be zero-filled again for every small value after it
// (one bomb made a loader 4,000 times slower) and hold its memory for good.
class OutputSizing {
 public:
  // Readies `output` for a value of `input_size` bytes under `limit` (the
  // cap + 1); its size is the room to decode into. A value whose format
  // records what it decodes to (`declared`) gets exactly that room, however
  // large the buffer was before: a frame that breaks its word then fails
  // the same way whatever came before it.
  void prepare(std::string& output, std::size_t input_size, std::size_t limit,
               std::optional<std::size_t> declared = std::nullopt) const {
    const std::size_t wanted = std::clamp<std::size_t>(
        declared ? *declared : std::max(input_size * 4, last_output_), 256, limit);
    release_if_oversized(output, wanted);
    output.resize(wanted);
  }
  // Releases `output`'s memory if it is far more than `needed` bytes.
  static void release_if_oversized(std::string& output, std::size_t needed) {
    if (output.capacity() > std::max(4 * needed, keep_below)) std::string().swap(output);
  }
  // The size the last good value decoded to.
  void decoded(std::size_t size) noexcept { last_output_ = size; }

  // Buffers up to this size are kept whatever the next value needs.
  static constexpr std::size_t keep_below = std::size_t{1} << 20;

 private:
  std::size_t last_output_ = 0;
};

inline Error too_large_error(std::size_t max_output, std::size_t input_size) {
  return decompress_error(Errc::too_large,
                          "the record inflates to more than the " + std::to_string(max_output) +
                              "-byte limit (LoaderOptions::max_decompressed_bytes) from " +
                              std::to_string(input_size) + " bytes");
}

// `stream` names the format: "zlib stream", "zstd frame"...
inline Error trailing_error(std::string_view stream, std::size_t trailing, std::size_t input_size) {
  return decompress_error(Errc::trailing_data, std::to_string(trailing) +
                                                   " bytes follow the end of the " +
                                                   std::string(stream) + " (" +
                                                   std::to_string(input_size) + " bytes in all)");
}

}  // namespace corps::detail
