#include "detail/zlib_codec.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <new>

#include "detail/bounded_output.hpp"

namespace corps::detail {

// libdeflate writes the same format as zlib's deflate, 1.8x as fast on a
// video frame, but it sets up its match finder afresh for every buffer, which
// makes it slower than a reset zlib state below about 2 KiB (a Prediction is
// about 150 bytes): measured with corps_bench --compare-zlib-backends. Its
// streams are not zlib's byte for byte; zlib and Python's zlib.decompress read
// them all the same.
constexpr std::size_t libdeflate_min_input = 2048;

struct ZlibCompressor::State {
  struct Free {
    void operator()(libdeflate_compressor* c) const noexcept { libdeflate_free_compressor(c); }
  };
  std::unique_ptr<libdeflate_compressor, Free> compressor;
  std::unique_ptr<libdeflate_compressor, Free> store;  // level 0: stored blocks
  z_stream stream{};
  ~State() { deflateEnd(&stream); }
};

ZlibCompressor::ZlibCompressor(int level, std::size_t store_below)
    : state_(std::make_unique<State>()), level_(level), store_below_(store_below) {
  if (level < -1 || level > 9) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "zlib level " + std::to_string(level) +
                              " is out of range; expected -1 "
                              "(default) or 0..9"));
  }
  if (deflateInit(&state_->stream, level) != Z_OK) throw std::bad_alloc();
  // libdeflate has no -1; zlib's default level is 6, and so is libdeflate's.
  state_->compressor.reset(libdeflate_alloc_compressor(level == -1 ? 6 : level));
  if (state_->compressor == nullptr) throw std::bad_alloc();
  state_->store.reset(libdeflate_alloc_compressor(0));
  if (state_->store == nullptr) throw std::bad_alloc();
}

ZlibCompressor::~ZlibCompressor() = default;
ZlibCompressor::ZlibCompressor(ZlibCompressor&&) noexcept = default;
ZlibCompressor& ZlibCompressor::operator=(ZlibCompressor&&) noexcept = default;

namespace {

Result<Payload> deflate_with_zlib(z_stream& zs, std::string_view input) {
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

Result<Payload> deflate_with_libdeflate(libdeflate_compressor* compressor, std::string_view input) {
  const std::size_t bound = libdeflate_zlib_compress_bound(compressor, input.size());
  Payload out = Payload::with_capacity(bound);
  const std::size_t written =
      libdeflate_zlib_compress(compressor, input.data(), input.size(), out.data(), bound);
  // libdeflate gives up only on a buffer smaller than its bound.
  if (written == 0) {
    return Error(Errc::corrupt_data, Stage::encode,
                 "libdeflate could not compress " + std::to_string(input.size()) +
                     " bytes into its own bound of " + std::to_string(bound));
  }
  out.set_size(written);
  return out;
}

}  // namespace

Result<Payload> ZlibCompressor::compress(std::string_view input, Compressibility compressibility) {
  if (input.size() > UINT_MAX / 2) {
    return Error(Errc::too_large, Stage::encode,
                 "a " + std::to_string(input.size()) + "-byte message is too large to compress");
  }
  if (input.size() < store_below_ || compressibility == Compressibility::already_compressed) {
    return deflate_with_libdeflate(state_->store.get(), input);
  }
  if (input.size() < libdeflate_min_input) return deflate_with_zlib(state_->stream, input);
  return deflate_with_libdeflate(state_->compressor.get(), input);
}

// libdeflate inflates a whole stream in one call, several times faster than
// zlib. It cannot resume, so a buffer too small means starting again in one
// twice the size, and it reports every broken stream alike (BAD_DATA): zlib,
// kept for that, tells truncated from corrupt and says where, on the error
// path only.
struct ZlibDecompressor::State {
  struct Free {
    void operator()(libdeflate_decompressor* d) const noexcept { libdeflate_free_decompressor(d); }
  };
  std::unique_ptr<libdeflate_decompressor, Free> decompressor;
  z_stream stream{};
  detail::OutputSizing sizing;
  // decompress_view()'s buffer, uninitialized as it grows, and where the
  // zlib fallback writes for it.
  std::unique_ptr<char[]> view_buffer;
  std::size_t view_size = 0;
  std::string view_fallback;
  ~State() { inflateEnd(&stream); }
};

ZlibDecompressor::ZlibDecompressor() : state_(std::make_unique<State>()) {
  state_->decompressor.reset(libdeflate_alloc_decompressor());
  if (state_->decompressor == nullptr) throw std::bad_alloc();
  if (inflateInit(&state_->stream) != Z_OK) throw std::bad_alloc();
}

ZlibDecompressor::~ZlibDecompressor() = default;
ZlibDecompressor::ZlibDecompressor(ZlibDecompressor&&) noexcept = default;
ZlibDecompressor& ZlibDecompressor::operator=(ZlibDecompressor&&) noexcept = default;

namespace {

// zlib's inflate, in the bounded loop every streaming decoder shares:
// slower than libdeflate, but its verdict on a broken stream is exact
// (truncated or corrupt, and after how many bytes). `input` is not empty and
// at most UINT_MAX bytes.
Status inflate_with_zlib(z_stream& zs, OutputSizing& sizing, std::string_view input,
                         std::string& output, std::size_t max_output) {
  inflateReset(&zs);
  return decode_bounded(
      "zlib stream", input, output, max_output, sizing, std::nullopt,
      [&zs](std::string_view in, char* out, std::size_t room) {
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        zs.avail_in = static_cast<uInt>(in.size());
        // zlib counts room in 32 bits: more than that is given a piece at a
        // time, so the step fills all of it as the loop expects.
        std::size_t written = 0;
        int rc = Z_OK;
        do {
          const auto piece = static_cast<uInt>(std::min<std::size_t>(room - written, UINT_MAX));
          zs.next_out = reinterpret_cast<Bytef*>(out + written);
          zs.avail_out = piece;
          rc = inflate(&zs, Z_NO_FLUSH);
          written += piece - zs.avail_out;
        } while ((rc == Z_OK || rc == Z_BUF_ERROR) && zs.avail_out == 0 && written < room);
        DecodeStep step{in.size() - zs.avail_in, written, rc == Z_STREAM_END};
        switch (rc) {
          case Z_STREAM_END:
          case Z_OK:
          case Z_BUF_ERROR:  // no progress possible: out of input, or of room
            break;
          case Z_NEED_DICT:
            step.error = "it needs a preset dictionary, which corps never uses";
            break;
          case Z_MEM_ERROR: throw std::bad_alloc();
          default: step.error = zs.msg != nullptr ? zs.msg : "data error"; break;
        }
        return step;
      });
}

}  // namespace

namespace {

Status check_zlib_input(std::string_view input) {
  if (input.empty()) {
    return decompress_error(Errc::truncated_data, "empty input; expected a zlib stream");
  }
  if (input.size() > UINT_MAX) {
    return decompress_error(
        Errc::too_large, std::to_string(input.size()) + " bytes of input is beyond zlib's limit");
  }
  return {};
}

// What one whole-stream inflate with libdeflate came to.
struct Inflated {
  Status status;             // set when the stream is done with: good, or refused
  bool needs_zlib = false;   // libdeflate refused it: zlib classifies why
  std::size_t produced = 0;  // what the stream inflated to, when it ended
};

// libdeflate over all of `input`, into the room `output` gives (`data()`,
// `size()`, `grow_to(n)`, which need not keep what was written), restarting
// in twice the room while it is short, up to one byte past the cap.
template <typename Output>
Inflated inflate_whole(libdeflate_decompressor* decompressor, std::string_view input,
                       std::size_t max_output, Output& output) {
  const std::size_t limit = max_output + 1;
  for (;;) {
    std::size_t consumed = 0;
    std::size_t produced = 0;
    const libdeflate_result rc =
        libdeflate_zlib_decompress_ex(decompressor, input.data(), input.size(), output.data(),
                                      output.size(), &consumed, &produced);
    switch (rc) {
      case LIBDEFLATE_SUCCESS:
        if (produced > max_output) return {too_large_error(max_output, input.size())};
        if (consumed != input.size()) {
          return {trailing_error("zlib stream", input.size() - consumed, input.size()), false,
                  produced};
        }
        return {{}, false, produced};
      case LIBDEFLATE_INSUFFICIENT_SPACE:
        // libdeflate checks for room before it checks everything zlib
        // does: a stream it finds too large may be broken before the cap
        // (found by fuzz/decode_fuzzer). zlib's bounded inflate decides.
        if (output.size() >= limit) return {{}, true};
        output.grow_to(std::min(output.size() * 2, limit));
        continue;
      // Only returned when no actual_out_nbytes_ret is given; handled as
      // broken data for completeness.
      case LIBDEFLATE_SHORT_OUTPUT:
      case LIBDEFLATE_BAD_DATA: return {{}, true};
    }
    return {
        decompress_error(Errc::corrupt_data, "libdeflate failed with code " + std::to_string(rc))};
  }
}

// The caller's string as inflate_whole's room.
struct StringRoom {
  std::string& text;
  char* data() { return text.data(); }
  std::size_t size() const { return text.size(); }
  void grow_to(std::size_t size) { text.resize(size); }
};

// A buffer that grows without being zero-filled: what was in it is never
// read, as libdeflate starts over in the larger room.
struct UninitializedRoom {
  std::unique_ptr<char[]>& buffer;
  std::size_t& capacity;
  char* data() { return buffer.get(); }
  std::size_t size() const { return capacity; }
  void grow_to(std::size_t size) {
    if (size <= capacity) return;
    buffer.reset();  // the old one goes before the new one is made
    capacity = 0;
    buffer = std::make_unique_for_overwrite<char[]>(size);
    capacity = size;
  }
};

}  // namespace

Status ZlibDecompressor::decompress(std::string_view input, std::string& output,
                                    std::size_t max_output) {
  if (Status checked = check_zlib_input(input); !checked.ok()) return checked;
  state_->sizing.prepare(output, input.size(), max_output + 1);
  StringRoom room{output};
  const Inflated done = inflate_whole(state_->decompressor.get(), input, max_output, room);
  if (done.needs_zlib) {
    return inflate_with_zlib(state_->stream, state_->sizing, input, output, max_output);
  }
  // A stream that ended is kept, with bytes after its end or not; one past
  // the cap leaves nothing.
  if (done.produced == 0 && !done.status.ok()) {
    output.clear();
    return done.status;
  }
  output.resize(done.produced);
  state_->sizing.decoded(done.produced);
  return done.status;
}

std::size_t ZlibDecompressor::view_bytes_held() const noexcept {
  return state_->view_size + state_->view_fallback.capacity();
}

void ZlibDecompressor::release_large_view_buffers() noexcept {
  if (OutputSizing::oversized(state_->view_size, 0)) {
    state_->view_buffer.reset();
    state_->view_size = 0;
  }
  if (state_->view_fallback.capacity() != 0) std::string().swap(state_->view_fallback);
}

Result<std::string_view> ZlibDecompressor::decompress_view(std::string_view input,
                                                           std::size_t max_output) {
  if (Status checked = check_zlib_input(input); !checked.ok()) return checked.error();
  State& state = *state_;
  // What the zlib fallback decoded last (a value, or a bomb up to the cap)
  // is not kept for the values after it: the fallback is rare.
  if (state.view_fallback.capacity() != 0) std::string().swap(state.view_fallback);
  const std::size_t wanted = state.sizing.wanted(input.size(), max_output + 1);
  // Kept while it is not far larger than a value needs: a bomb refused at
  // the cap must not keep its buffer (see OutputSizing).
  if (OutputSizing::oversized(state.view_size, wanted)) {
    state.view_buffer.reset();
    state.view_size = 0;
  }
  UninitializedRoom room{state.view_buffer, state.view_size};
  room.grow_to(wanted);
  const Inflated done = inflate_whole(state.decompressor.get(), input, max_output, room);
  if (done.needs_zlib) {
    const Status classified =
        inflate_with_zlib(state.stream, state.sizing, input, state.view_fallback, max_output);
    if (!classified.ok()) return classified.error();
    return std::string_view(state.view_fallback);
  }
  if (done.produced > 0) state.sizing.decoded(done.produced);
  if (!done.status.ok()) return done.status.error();
  return std::string_view(state.view_buffer.get(), done.produced);
}

}  // namespace corps::detail
