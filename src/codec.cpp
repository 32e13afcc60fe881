#include "corps/codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <new>

namespace corps {

namespace {

Error decompress_error(Errc code, std::string message) {
  return Error(code, Stage::decompress, std::move(message));
}

}  // namespace

Payload Payload::with_capacity(std::size_t capacity) {
  Payload payload;
  auto* memory = static_cast<char*>(std::malloc(capacity == 0 ? 1 : capacity));
  if (memory == nullptr) throw std::bad_alloc();
  payload.data_.reset(memory);
  payload.capacity_ = capacity;
  return payload;
}

struct ZlibCompressor::State {
  z_stream stream{};
  ~State() { deflateEnd(&stream); }
};

ZlibCompressor::ZlibCompressor(int level) : state_(std::make_unique<State>()), level_(level) {
  if (level < -1 || level > 9) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "zlib level " + std::to_string(level) +
                              " is out of range; expected -1 "
                              "(default) or 0..9"));
  }
  if (deflateInit(&state_->stream, level) != Z_OK) throw std::bad_alloc();
}

ZlibCompressor::~ZlibCompressor() = default;
ZlibCompressor::ZlibCompressor(ZlibCompressor&&) noexcept = default;
ZlibCompressor& ZlibCompressor::operator=(ZlibCompressor&&) noexcept = default;

Result<Payload> ZlibCompressor::compress(std::string_view input) {
  if (input.size() > UINT_MAX / 2) {
    return Error(Errc::too_large, Stage::encode,
                 "a " + std::to_string(input.size()) + "-byte message is too large to compress");
  }
  z_stream& zs = state_->stream;
  deflateReset(&zs);
  const auto bound = deflateBound(&zs, static_cast<uLong>(input.size()));
  Payload out = Payload::with_capacity(bound);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(bound);
  // deflateBound guarantees one Z_FINISH call completes the stream.
  const int rc = deflate(&zs, Z_FINISH);
  if (rc != Z_STREAM_END) {
    return Error(Errc::corrupt_data, Stage::encode,
                 std::string("zlib deflate failed: ") + (zs.msg != nullptr ? zs.msg : "no detail"));
  }
  out.set_size(zs.total_out);
  return out;
}

struct ZlibDecompressor::State {
  z_stream stream{};
  ~State() { inflateEnd(&stream); }
};

ZlibDecompressor::ZlibDecompressor() : state_(std::make_unique<State>()) {
  if (inflateInit(&state_->stream) != Z_OK) throw std::bad_alloc();
}

ZlibDecompressor::~ZlibDecompressor() = default;
ZlibDecompressor::ZlibDecompressor(ZlibDecompressor&&) noexcept = default;
ZlibDecompressor& ZlibDecompressor::operator=(ZlibDecompressor&&) noexcept = default;

Status ZlibDecompressor::decompress(std::string_view input, std::string& output,
                                    std::size_t max_output) {
  if (input.empty()) {
    return decompress_error(Errc::truncated_data, "empty input; expected a zlib stream");
  }
  if (input.size() > UINT_MAX) {
    return decompress_error(
        Errc::too_large, std::to_string(input.size()) + " bytes of input is beyond zlib's limit");
  }
  z_stream& zs = state_->stream;
  inflateReset(&zs);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs.avail_in = static_cast<uInt>(input.size());

  // One byte beyond the cap tells "exactly the cap" from "more than the cap".
  const std::size_t limit = max_output + 1;
  std::size_t capacity = std::max<std::size_t>(output.capacity(), input.size() * 4);
  capacity = std::clamp<std::size_t>(capacity, 256, limit);
  output.resize(capacity);
  std::size_t produced = 0;
  for (;;) {
    const std::size_t room = std::min<std::size_t>(output.size() - produced, UINT_MAX);
    zs.next_out = reinterpret_cast<Bytef*>(output.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    switch (rc) {
      case Z_STREAM_END:
        output.resize(produced);
        if (produced > max_output) break;
        if (zs.avail_in != 0) {
          return decompress_error(Errc::trailing_data,
                                  std::to_string(zs.avail_in) +
                                      " bytes follow the end of the zlib stream (" +
                                      std::to_string(input.size()) + " bytes in all)");
        }
        return {};
      case Z_OK:
      case Z_BUF_ERROR:
        if (zs.avail_out == 0) break;  // output full: grow below
        if (zs.avail_in == 0) {
          output.resize(produced);
          return decompress_error(
              Errc::truncated_data,
              "the zlib stream ends early: all " + std::to_string(input.size()) + " bytes read, " +
                  std::to_string(produced) + " bytes inflated, no end-of-stream marker");
        }
        continue;
      case Z_NEED_DICT:
        output.clear();
        return decompress_error(Errc::corrupt_data,
                                "the zlib stream needs a preset dictionary, which corps "
                                "never uses");
      case Z_DATA_ERROR:
        output.clear();
        return decompress_error(Errc::corrupt_data,
                                std::string("not a valid zlib stream: ") +
                                    (zs.msg != nullptr ? zs.msg : "data error") + " after " +
                                    std::to_string(zs.total_in) + " of " +
                                    std::to_string(input.size()) + " bytes");
      case Z_MEM_ERROR: throw std::bad_alloc();
      default:
        output.clear();
        return decompress_error(Errc::corrupt_data,
                                "zlib inflate failed with code " + std::to_string(rc));
    }
    if (produced > max_output || output.size() >= limit) {
      output.clear();
      return decompress_error(Errc::too_large,
                              "the record inflates to more than the " + std::to_string(max_output) +
                                  "-byte limit (LoaderOptions::max_decompressed_bytes) from " +
                                  std::to_string(input.size()) + " bytes");
    }
    output.resize(std::min(output.size() * 2, limit));
  }
}

}  // namespace corps
