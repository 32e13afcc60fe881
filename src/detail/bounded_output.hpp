// What every decompressor shares: how it sizes its output under the cap, the
// one loop that decodes under it, and how the failures the cap and the
// stream's end make are worded.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "corps/error.hpp"
#include "corps/result.hpp"

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
    const std::size_t size = wanted(input_size, limit, declared);
    release_if_oversized(output, size);
    output.resize(size);
  }
  // The room prepare() gives.
  [[nodiscard]] std::size_t wanted(std::size_t input_size, std::size_t limit,
                                   std::optional<std::size_t> declared = std::nullopt) const {
    return std::clamp<std::size_t>(declared ? *declared : std::max(input_size * 4, last_output_),
                                   256, limit);
  }
  // Releases `output`'s memory if it is far more than `needed` bytes.
  static void release_if_oversized(std::string& output, std::size_t needed) {
    if (oversized(output.capacity(), needed)) std::string().swap(output);
  }
  // Whether a buffer of `capacity` bytes is far more than `needed`.
  static bool oversized(std::size_t capacity, std::size_t needed) noexcept {
    return capacity > std::max(4 * needed, keep_below);
  }
  // The size the last good value decoded to.
  void decoded(std::size_t size) noexcept { last_output_ = size; }

  // Buffers up to this size are kept whatever the next value needs.
  static constexpr std::size_t keep_below = std::size_t{1} << 20;

 private:
  std::size_t last_output_ = 0;
};

inline Error too_large_error(std::size_t max_output, std::size_t input_size) {
  return decompress_error(Errc::too_large, "the value decodes to more than the " +
                                               std::to_string(max_output) + "-byte limit from " +
                                               std::to_string(input_size) + " bytes");
}

// `stream` names the format: "zlib stream", "zstd frame"...
inline Error trailing_error(std::string_view stream, std::size_t trailing, std::size_t input_size) {
  return decompress_error(Errc::trailing_data, std::to_string(trailing) +
                                                   " bytes follow the end of the " +
                                                   std::string(stream) + " (" +
                                                   std::to_string(input_size) + " bytes in all)");
}

// One pass of a streaming decoder: how much of the input it read and of the
// output it wrote, and whether the stream or frame is complete.
struct DecodeStep {
  std::size_t consumed = 0;
  std::size_t produced = 0;
  bool finished = false;
  const char* error = nullptr;     // the library's reason, when the data is bad
  bool needs_more_memory = false;  // the frame asks for more than the cap allows
};

// The one bounded-output loop every streaming decoder runs in: drives
// `step(input, out, room) -> DecodeStep` over `input`, growing `output` to
// at most one byte past the cap, and classifies the ways a stream can be
// wrong: corrupt (and after how many bytes), truncated, trailing bytes, or
// past the cap. `name` names the format ("zlib stream", "zstd frame").
template <typename Decode>
Status decode_bounded(std::string_view name, std::string_view input, std::string& output,
                      std::size_t max_output, OutputSizing& sizing,
                      std::optional<std::size_t> declared, Decode&& step) {
  const std::size_t limit = max_output + 1;
  sizing.prepare(output, input.size(), limit, declared);
  std::size_t read = 0;
  std::size_t produced = 0;
  for (;;) {
    const DecodeStep done =
        step(input.substr(read), output.data() + produced, output.size() - produced);
    read += done.consumed;
    produced += done.produced;
    if (done.needs_more_memory) {
      output.clear();
      return decompress_error(Errc::too_large, "the " + std::string(name) +
                                                   " needs a larger window than the " +
                                                   std::to_string(max_output) + "-byte limit");
    }
    if (done.error != nullptr) {
      output.clear();
      return decompress_error(Errc::corrupt_data,
                              "not a valid " + std::string(name) + ": " + done.error + " after " +
                                  std::to_string(read) + " of " + std::to_string(input.size()) +
                                  " bytes");
    }
    if (produced > max_output) {
      output.clear();
      return too_large_error(max_output, input.size());
    }
    if (done.finished) {
      output.resize(produced);
      sizing.decoded(produced);
      if (read != input.size()) return trailing_error(name, input.size() - read, input.size());
      return {};
    }
    if (produced == output.size()) {
      output.resize(std::min(output.size() * 2, limit));
      continue;
    }
    if (done.consumed == 0 && done.produced == 0 && read != input.size()) {
      output.clear();  // a decoder that neither reads nor writes is stuck
      return decompress_error(Errc::corrupt_data, "the " + std::string(name) +
                                                      " decoder stopped after " +
                                                      std::to_string(read) + " bytes");
    }
    if (read == input.size()) {
      output.resize(produced);
      return decompress_error(Errc::truncated_data,
                              "the " + std::string(name) + " ends early: all " +
                                  std::to_string(input.size()) + " bytes read, " +
                                  std::to_string(produced) + " bytes decoded, no end marker");
    }
  }
}

}  // namespace corps::detail
