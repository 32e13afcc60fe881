#include "detail/lz4_codec.hpp"

#include <lz4frame.h>

#include <new>
#include <optional>

namespace corps::detail {

namespace {

Error encode_error(const char* reason) {
  return Error(Errc::corrupt_data, Stage::encode, std::string("lz4 compression failed: ") + reason);
}

}  // namespace

void Lz4Compressor::Free::operator()(LZ4F_cctx_s* context) const noexcept {
  LZ4F_freeCompressionContext(context);
}

void Lz4Decompressor::Free::operator()(LZ4F_dctx_s* context) const noexcept {
  LZ4F_freeDecompressionContext(context);
}

Lz4Compressor::Lz4Compressor() {
  LZ4F_cctx* context = nullptr;
  if (LZ4F_isError(LZ4F_createCompressionContext(&context, LZ4F_VERSION))) throw std::bad_alloc();
  context_.reset(context);
}

Result<Payload> Lz4Compressor::compress(std::string_view input) {
  LZ4F_preferences_t preferences{};
  preferences.frameInfo.contentSize = input.size();
  preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  Payload out = Payload::with_capacity(LZ4F_compressFrameBound(input.size(), &preferences));
  std::size_t written = LZ4F_compressBegin(context_.get(), out.data(), out.capacity(), &preferences);
  if (LZ4F_isError(written)) return encode_error(LZ4F_getErrorName(written));
  const std::size_t body = LZ4F_compressUpdate(context_.get(), out.data() + written,
                                               out.capacity() - written, input.data(),
                                               input.size(), nullptr);
  if (LZ4F_isError(body)) return encode_error(LZ4F_getErrorName(body));
  written += body;
  const std::size_t end =
      LZ4F_compressEnd(context_.get(), out.data() + written, out.capacity() - written, nullptr);
  if (LZ4F_isError(end)) return encode_error(LZ4F_getErrorName(end));
  out.set_size(written + end);
  return out;
}

Status Lz4Decompressor::decompress(std::string_view input, std::string& output,
                                   std::size_t max_output, OutputSizing& sizing) {
  if (input.empty()) return decompress_error(Errc::truncated_data, "empty lz4 frame");
  if (!context_) {
    LZ4F_dctx* context = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) {
      throw std::bad_alloc();
    }
    context_.reset(context);
  }
  LZ4F_dctx* context = context_.get();
  LZ4F_resetDecompressionContext(context);
  Status done = decode_bounded("lz4 frame", input, output, max_output, sizing, std::nullopt,
                               [context](std::string_view in, char* out, std::size_t room) {
                                 std::size_t written = room;
                                 std::size_t read = in.size();
                                 const std::size_t rc = LZ4F_decompress(context, out, &written,
                                                                        in.data(), &read, nullptr);
                                 DecodeStep step{read, written, rc == 0};
                                 if (LZ4F_isError(rc)) step.error = LZ4F_getErrorName(rc);
                                 return step;
                               });
  // LZ4F_resetDecompressionContext does not forget all that a frame which
  // failed left behind: after one that declared its size, a valid frame
  // that declares none was refused (ERROR_frameSize_wrong). A context that
  // saw a failure is not reused.
  if (!done.ok()) context_.reset();
  return done;
}

}  // namespace corps::detail
