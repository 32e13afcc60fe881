// LZ4 frames: codec lz4 of corps::PayloadCompressor and PayloadDecompressor
// (corps/codec.hpp). Each object keeps its context from value to value. Not
// thread-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/result.hpp"
#include "detail/bounded_output.hpp"

struct LZ4F_cctx_s;
struct LZ4F_dctx_s;

namespace corps::detail {

class Lz4Compressor {
 public:
  Lz4Compressor();
  /// `input` as one frame that records its content size and a checksum.
  [[nodiscard]] Result<Payload> compress(std::string_view input);

 private:
  struct Free {
    void operator()(LZ4F_cctx_s* context) const noexcept;
  };
  std::unique_ptr<LZ4F_cctx_s, Free> context_;
};

class Lz4Decompressor {
 public:
  /// As PayloadDecompressor::decompress, for one lz4 frame.
  Status decompress(std::string_view input, std::string& output, std::size_t max_output,
                    OutputSizing& sizing);

 private:
  struct Free {
    void operator()(LZ4F_dctx_s* context) const noexcept;
  };
  std::unique_ptr<LZ4F_dctx_s, Free> context_;  // made at the first frame
};

}  // namespace corps::detail
