// Zstandard frames (RFC 8878): codec zstd of corps::PayloadCompressor and
// PayloadDecompressor (corps/codec.hpp). Each object keeps its context from
// value to value. Not thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/result.hpp"
#include "detail/bounded_output.hpp"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace corps::detail {

class ZstdCompressor {
 public:
  /// Throws corps::Exception (Stage::config) for a level outside 1..19.
  explicit ZstdCompressor(int level);
  /// `input` as one frame that records its content size and a checksum.
  [[nodiscard]] Result<Payload> compress(std::string_view input);

 private:
  struct Free {
    void operator()(ZSTD_CCtx_s* context) const noexcept;
  };
  std::unique_ptr<ZSTD_CCtx_s, Free> context_;
};

class ZstdDecompressor {
 public:
  /// As PayloadDecompressor::decompress, for one zstd frame. A frame that
  /// declares more than `max_output` bytes, or a window larger than the
  /// cap needs, is refused before anything is allocated for it.
  Status decompress(std::string_view input, std::string& output, std::size_t max_output,
                    OutputSizing& sizing);

 private:
  struct Free {
    void operator()(ZSTD_DCtx_s* context) const noexcept;
  };
  std::unique_ptr<ZSTD_DCtx_s, Free> context_;  // made at the first frame
};

}  // namespace corps::detail
