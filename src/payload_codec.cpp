#include "corps/payload_codec.hpp"

#include <lz4frame.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "detail/bounded_output.hpp"

namespace corps {

using detail::decompress_error;
using detail::too_large_error;

std::string_view to_string(Codec codec) noexcept {
  switch (codec) {
    case Codec::zlib: return "zlib";
    case Codec::none: return "none";
    case Codec::zstd: return "zstd";
    case Codec::lz4: return "lz4";
  }
  return "unknown";
}

std::optional<Codec> parse_codec(std::string_view name) noexcept {
  for (Codec codec : {Codec::zlib, Codec::none, Codec::zstd, Codec::lz4}) {
    if (name == to_string(codec)) return codec;
  }
  return std::nullopt;
}

namespace {

struct FreeZstdCompressor {
  void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct FreeZstdDecompressor {
  void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};
struct FreeLz4Compressor {
  void operator()(LZ4F_cctx* c) const noexcept { LZ4F_freeCompressionContext(c); }
};
struct FreeLz4Decompressor {
  void operator()(LZ4F_dctx* d) const noexcept { LZ4F_freeDecompressionContext(d); }
};

Error encode_error(std::string_view codec, std::string_view detail) {
  return Error(Errc::corrupt_data, Stage::encode,
               std::string(codec) + " compression failed: " + std::string(detail));
}

}  // namespace

// Only the state of the chosen codec is allocated.
struct PayloadCompressor::State {
  std::optional<ZlibCompressor> zlib;
  std::unique_ptr<ZSTD_CCtx, FreeZstdCompressor> zstd;
  std::unique_ptr<LZ4F_cctx, FreeLz4Compressor> lz4;
};

PayloadCompressor::PayloadCompressor(CodecOptions options)
    : options_(options), state_(std::make_unique<State>()) {
  switch (options_.codec) {
    case Codec::zlib: state_->zlib.emplace(options_.zlib_level, options_.zlib_store_below); break;
    case Codec::none: break;
    case Codec::zstd:
      if (options_.zstd_level < 1 || options_.zstd_level > 19) {
        throw Exception(Error(Errc::invalid_argument, Stage::config,
                              "zstd level " + std::to_string(options_.zstd_level) +
                                  " is out of range; expected 1..19"));
      }
      state_->zstd.reset(ZSTD_createCCtx());
      if (!state_->zstd) throw std::bad_alloc();
      ZSTD_CCtx_setParameter(state_->zstd.get(), ZSTD_c_compressionLevel, options_.zstd_level);
      // A checksum, as lz4 frames carry one: a flipped bit is an error, not
      // a different message.
      ZSTD_CCtx_setParameter(state_->zstd.get(), ZSTD_c_checksumFlag, 1);
      break;
    case Codec::lz4: {
      LZ4F_cctx* context = nullptr;
      if (LZ4F_isError(LZ4F_createCompressionContext(&context, LZ4F_VERSION))) {
        throw std::bad_alloc();
      }
      state_->lz4.reset(context);
      break;
    }
  }
}

PayloadCompressor::~PayloadCompressor() = default;
PayloadCompressor::PayloadCompressor(PayloadCompressor&&) noexcept = default;
PayloadCompressor& PayloadCompressor::operator=(PayloadCompressor&&) noexcept = default;

Codec PayloadCompressor::codec_for(std::size_t input_size) const noexcept {
  const bool framed = options_.codec == Codec::zstd || options_.codec == Codec::lz4;
  return framed && input_size < options_.uncompressed_below ? Codec::none : options_.codec;
}

Result<Payload> PayloadCompressor::compress(std::string_view input,
                                            Compressibility compressibility) {
  switch (codec_for(input.size())) {
    case Codec::zlib: return state_->zlib->compress(input, compressibility);
    case Codec::none: {
      Payload out = Payload::with_capacity(input.size());
      if (!input.empty()) std::memcpy(out.data(), input.data(), input.size());
      out.set_size(input.size());
      return out;
    }
    case Codec::zstd: {
      Payload out = Payload::with_capacity(ZSTD_compressBound(input.size()));
      // The frame records the content size, which lets a reader refuse an
      // oversized value before inflating any of it.
      const std::size_t written = ZSTD_compress2(state_->zstd.get(), out.data(), out.capacity(),
                                                 input.data(), input.size());
      if (ZSTD_isError(written)) return encode_error("zstd", ZSTD_getErrorName(written));
      out.set_size(written);
      return out;
    }
    case Codec::lz4: {
      LZ4F_preferences_t preferences{};
      preferences.frameInfo.contentSize = input.size();
      preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
      Payload out = Payload::with_capacity(LZ4F_compressFrameBound(input.size(), &preferences));
      std::size_t written =
          LZ4F_compressBegin(state_->lz4.get(), out.data(), out.capacity(), &preferences);
      if (LZ4F_isError(written)) return encode_error("lz4", LZ4F_getErrorName(written));
      const std::size_t body =
          LZ4F_compressUpdate(state_->lz4.get(), out.data() + written, out.capacity() - written,
                              input.data(), input.size(), nullptr);
      if (LZ4F_isError(body)) return encode_error("lz4", LZ4F_getErrorName(body));
      written += body;
      const std::size_t end = LZ4F_compressEnd(state_->lz4.get(), out.data() + written,
                                               out.capacity() - written, nullptr);
      if (LZ4F_isError(end)) return encode_error("lz4", LZ4F_getErrorName(end));
      out.set_size(written + end);
      return out;
    }
  }
  return encode_error(to_string(options_.codec), "unknown codec");
}

struct PayloadDecompressor::State {
  ZlibDecompressor zlib;
  detail::OutputSizing sizing;  // for the codecs other than zlib
  std::unique_ptr<ZSTD_DCtx, FreeZstdDecompressor> zstd;
  std::unique_ptr<LZ4F_dctx, FreeLz4Decompressor> lz4;
};

PayloadDecompressor::PayloadDecompressor() : state_(std::make_unique<State>()) {}
PayloadDecompressor::~PayloadDecompressor() = default;
PayloadDecompressor::PayloadDecompressor(PayloadDecompressor&&) noexcept = default;
PayloadDecompressor& PayloadDecompressor::operator=(PayloadDecompressor&&) noexcept = default;

namespace {

// One pass of a streaming decoder: how much of the input it read and of the
// output it wrote, and whether the frame is complete.
struct Step {
  std::size_t consumed = 0;
  std::size_t produced = 0;
  bool finished = false;
  const char* error = nullptr;     // the library's reason, when the data is bad
  bool needs_more_memory = false;  // the frame asks for more than the cap allows
};

// Drives `step(input, output) -> Step` over `input`, growing `output` to at
// most one byte past the cap; classifies the ways a frame can be wrong.
template <typename Decode>
Status decode_bounded(std::string_view frame_name, std::string_view input, std::string& output,
                      std::size_t max_output, detail::OutputSizing& sizing,
                      std::optional<std::size_t> declared, Decode&& step) {
  const std::size_t limit = max_output + 1;
  sizing.prepare(output, input.size(), limit, declared);
  std::size_t read = 0;
  std::size_t produced = 0;
  for (;;) {
    const Step done = step(input.substr(read), output.data() + produced, output.size() - produced);
    read += done.consumed;
    produced += done.produced;
    if (done.needs_more_memory) {
      output.clear();
      return decompress_error(
          Errc::too_large, "the " + std::string(frame_name) + " needs a larger window than the " +
                               std::to_string(max_output) +
                               "-byte limit (LoaderOptions::max_decompressed_bytes) allows");
    }
    if (done.error != nullptr) {
      output.clear();
      return decompress_error(Errc::corrupt_data, "not a valid " + std::string(frame_name) + ": " +
                                                      done.error + " after " +
                                                      std::to_string(read) + " of " +
                                                      std::to_string(input.size()) + " bytes");
    }
    if (produced > max_output) {
      output.clear();
      return too_large_error(max_output, input.size());
    }
    if (done.finished) {
      output.resize(produced);
      sizing.decoded(produced);
      if (read != input.size()) {
        return detail::trailing_error(frame_name, input.size() - read, input.size());
      }
      return {};
    }
    if (produced == output.size()) {
      output.resize(std::min(output.size() * 2, limit));
      continue;
    }
    if (done.consumed == 0 && done.produced == 0 && read != input.size()) {
      output.clear();  // a decoder that neither reads nor writes is stuck
      return decompress_error(Errc::corrupt_data, "the " + std::string(frame_name) +
                                                      " decoder stopped after " +
                                                      std::to_string(read) + " bytes");
    }
    if (read == input.size()) {
      output.resize(produced);
      return decompress_error(Errc::truncated_data,
                              "the " + std::string(frame_name) + " ends early: all " +
                                  std::to_string(input.size()) + " bytes read, " +
                                  std::to_string(produced) + " bytes decoded, no end of frame");
    }
  }
}

// The smallest window that can hold `max_output` bytes: a frame that asks for
// more is refused (too_large) before its window is allocated.
// At least 8 MiB, which streaming zstd writers use for small values too, and
// at most zstd's own default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT, which zstd.h
// declares only for static linking).
constexpr int zstd_min_window_log = 23;
constexpr int zstd_default_max_window_log = 27;

int window_log_for(std::size_t max_output) {
  const int needed = static_cast<int>(std::bit_width(std::max<std::size_t>(max_output, 1) - 1));
  return std::clamp(needed, zstd_min_window_log, zstd_default_max_window_log);
}

}  // namespace

Status PayloadDecompressor::decompress(Codec codec, std::string_view input, std::string& output,
                                       std::size_t max_output) {
  switch (codec) {
    case Codec::zlib: return state_->zlib.decompress(input, output, max_output);
    case Codec::none:
      if (input.size() > max_output) {
        output.clear();
        return decompress_error(Errc::too_large,
                                "the uncompressed record is " + std::to_string(input.size()) +
                                    " bytes, above the " + std::to_string(max_output) +
                                    "-byte limit (LoaderOptions::max_decompressed_bytes)");
      }
      // assign() would keep a capacity grown by an earlier huge value.
      detail::OutputSizing::release_if_oversized(output, input.size());
      output.assign(input.data(), input.size());
      return {};
    case Codec::zstd: {
      if (input.empty()) return decompress_error(Errc::truncated_data, "empty zstd frame");
      const unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
          declared > max_output) {
        output.clear();
        return too_large_error(max_output, input.size());
      }
      if (!state_->zstd) {
        state_->zstd.reset(ZSTD_createDCtx());
        if (!state_->zstd) throw std::bad_alloc();
      }
      ZSTD_DCtx* context = state_->zstd.get();
      ZSTD_DCtx_reset(context, ZSTD_reset_session_only);
      ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, window_log_for(max_output));
      // Room for exactly what the frame says it holds: zstd then decodes it
      // in one pass, and a frame that holds more than it says fails the same
      // way from a fresh decoder as from a used one (zstd words the error
      // by the room it had).
      const auto known = declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR
                             ? std::optional<std::size_t>(static_cast<std::size_t>(declared))
                             : std::nullopt;
      return decode_bounded("zstd frame", input, output, max_output, state_->sizing, known,
                            [&](std::string_view in, char* out, std::size_t room) {
                              ZSTD_inBuffer source{in.data(), in.size(), 0};
                              ZSTD_outBuffer target{out, room, 0};
                              const std::size_t rc =
                                  ZSTD_decompressStream(context, &target, &source);
                              Step step{source.pos, target.pos, rc == 0, nullptr};
                              if (ZSTD_isError(rc)) {
                                step.error = ZSTD_getErrorName(rc);
                                step.needs_more_memory = ZSTD_getErrorCode(rc) ==
                                                         ZSTD_error_frameParameter_windowTooLarge;
                              }
                              return step;
                            });
    }
    case Codec::lz4: {
      if (input.empty()) return decompress_error(Errc::truncated_data, "empty lz4 frame");
      if (!state_->lz4) {
        LZ4F_dctx* context = nullptr;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
          throw std::bad_alloc();
        }
        state_->lz4.reset(context);
      }
      LZ4F_dctx* context = state_->lz4.get();
      LZ4F_resetDecompressionContext(context);
      return decode_bounded("lz4 frame", input, output, max_output, state_->sizing, std::nullopt,
                            [&](std::string_view in, char* out, std::size_t room) {
                              std::size_t written = room;
                              std::size_t read = in.size();
                              const std::size_t rc = LZ4F_decompress(context, out, &written,
                                                                     in.data(), &read, nullptr);
                              Step step{read, written, rc == 0, nullptr};
                              if (LZ4F_isError(rc)) step.error = LZ4F_getErrorName(rc);
                              return step;
                            });
    }
  }
  return decompress_error(Errc::unsupported, "unknown codec");
}

}  // namespace corps
