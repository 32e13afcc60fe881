#include "detail/zstd_codec.hpp"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <bit>
#include <new>
#include <optional>

namespace corps::detail {

namespace {

// The smallest window that can hold `max_output` bytes: a frame that asks for
// more is refused (too_large) before its window is allocated. At least 8 MiB,
// which streaming zstd writers use for small values too, and at most zstd's
// own default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, which zstd.h declares only
// for static linking).
constexpr int min_window_log = 23;
constexpr int default_max_window_log = 27;

int window_log_for(std::size_t max_output) {
  const int needed = static_cast<int>(std::bit_width(std::max<std::size_t>(max_output, 1) - 1));
  return std::clamp(needed, min_window_log, default_max_window_log);
}

}  // namespace

void ZstdCompressor::Free::operator()(ZSTD_CCtx_s* context) const noexcept {
  ZSTD_freeCCtx(context);
}

void ZstdDecompressor::Free::operator()(ZSTD_DCtx_s* context) const noexcept {
  ZSTD_freeDCtx(context);
}

ZstdCompressor::ZstdCompressor(int level) {
  if (level < 1 || level > 19) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "zstd level " + std::to_string(level) + " is out of range; expected 1..19"));
  }
  context_.reset(ZSTD_createCCtx());
  if (!context_) throw std::bad_alloc();
  ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_compressionLevel, level);
  // A checksum, as lz4 frames carry one: a flipped bit is an error, not a
  // different message.
  ZSTD_CCtx_setParameter(context_.get(), ZSTD_c_checksumFlag, 1);
}

Result<Payload> ZstdCompressor::compress(std::string_view input) {
  Payload out = Payload::with_capacity(ZSTD_compressBound(input.size()));
  // The frame records the content size, which lets a reader refuse an
  // oversized value before inflating any of it.
  const std::size_t written =
      ZSTD_compress2(context_.get(), out.data(), out.capacity(), input.data(), input.size());
  if (ZSTD_isError(written)) {
    return Error(Errc::corrupt_data, Stage::encode,
                 std::string("zstd compression failed: ") + ZSTD_getErrorName(written));
  }
  out.set_size(written);
  return out;
}

Status ZstdDecompressor::decompress(std::string_view input, std::string& output,
                                    std::size_t max_output, OutputSizing& sizing) {
  if (input.empty()) return decompress_error(Errc::truncated_data, "empty zstd frame");
  const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  const bool known = declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR;
  if (known && declared > max_output) {
    output.clear();
    return too_large_error(max_output, input.size());
  }
  if (!context_) {
    context_.reset(ZSTD_createDCtx());
    if (!context_) throw std::bad_alloc();
  }
  ZSTD_DCtx* context = context_.get();
  ZSTD_DCtx_reset(context, ZSTD_reset_session_only);
  ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, window_log_for(max_output));
  // Room for exactly what the frame says it holds: zstd then decodes it in
  // one pass, and a frame that holds more than it says fails the same way
  // from a fresh decoder as from a used one (zstd words the error by the
  // room it had).
  return decode_bounded(
      "zstd frame", input, output, max_output, sizing,
      known ? std::optional<std::size_t>(static_cast<std::size_t>(declared)) : std::nullopt,
      [context](std::string_view in, char* out, std::size_t room) {
        ZSTD_inBuffer source{in.data(), in.size(), 0};
        ZSTD_outBuffer target{out, room, 0};
        const std::size_t rc = ZSTD_decompressStream(context, &target, &source);
        DecodeStep step{source.pos, target.pos, rc == 0};
        if (ZSTD_isError(rc)) {
          step.error = ZSTD_getErrorName(rc);
          step.needs_more_memory =
              ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge;
        }
        return step;
      });
}

}  // namespace corps::detail
