// What every decompressor shares: how it sizes its output under the cap, and
// how it words the failures the cap and the stream's end make.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "corps/error.hpp"

namespace corps::detail {

inline Error decompress_error(Errc code, std::string message) {
  return Error(code, Stage::decompress, std::move(message));
}

// The output buffer to start with: the caller's own (reused between records),
// or room for a ratio of 4, and one byte beyond the cap at most, which tells
// "exactly the cap" from "more than the cap".
inline std::size_t first_capacity(const std::string& output, std::size_t input_size,
                                  std::size_t limit) {
  const std::size_t wanted = std::max<std::size_t>(output.capacity(), input_size * 4);
  return std::clamp<std::size_t>(wanted, 256, limit);
}

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
