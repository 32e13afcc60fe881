#include "corps/codec.hpp"

#include <cstring>
#include <new>

#include "detail/bounded_output.hpp"
#include "detail/lz4_codec.hpp"
#include "detail/zlib_codec.hpp"
#include "detail/zstd_codec.hpp"

namespace corps {

Payload Payload::with_capacity(std::size_t capacity) {
  Payload payload;
  auto* memory = static_cast<char*>(std::malloc(capacity == 0 ? 1 : capacity));
  if (memory == nullptr) throw std::bad_alloc();
  payload.data_.reset(memory);
  payload.capacity_ = capacity;
  return payload;
}

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
  for (const Codec codec : all_codecs) {
    if (name == to_string(codec)) return codec;
  }
  return std::nullopt;
}

std::vector<std::string> codec_names() {
  std::vector<std::string> names;
  for (const Codec codec : all_codecs) names.emplace_back(to_string(codec));
  return names;
}

std::string codec_names_text() {
  std::string text;
  for (std::size_t i = 0; i < all_codecs.size(); ++i) {
    if (i > 0) text += i + 1 == all_codecs.size() ? " and " : ", ";
    text += to_string(all_codecs[i]);
  }
  return text;
}

// Only the state of the chosen codec is allocated.
struct PayloadCompressor::State {
  std::optional<detail::ZlibCompressor> zlib;
  std::optional<detail::ZstdCompressor> zstd;
  std::optional<detail::Lz4Compressor> lz4;
};

PayloadCompressor::PayloadCompressor(CodecOptions options)
    : options_(options), state_(std::make_unique<State>()) {
  switch (options_.codec) {
    case Codec::zlib: state_->zlib.emplace(options_.zlib_level, options_.zlib_store_below); break;
    case Codec::none: break;
    case Codec::zstd: state_->zstd.emplace(options_.zstd_level); break;
    case Codec::lz4: state_->lz4.emplace(); break;
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
    case Codec::zstd: return state_->zstd->compress(input);
    case Codec::lz4: return state_->lz4->compress(input);
  }
  return Error(Errc::invalid_argument, Stage::encode, "unknown codec");
}

// Each codec's state is made at its first value.
struct PayloadDecompressor::State {
  detail::ZlibDecompressor zlib;
  detail::OutputSizing sizing;  // for the codecs other than zlib
  detail::ZstdDecompressor zstd;
  detail::Lz4Decompressor lz4;
  std::string view;  // decompress_view()'s, for the codecs other than zlib
};

PayloadDecompressor::PayloadDecompressor() : state_(std::make_unique<State>()) {}
PayloadDecompressor::~PayloadDecompressor() = default;
PayloadDecompressor::PayloadDecompressor(PayloadDecompressor&&) noexcept = default;
PayloadDecompressor& PayloadDecompressor::operator=(PayloadDecompressor&&) noexcept = default;

Status PayloadDecompressor::decompress(Codec codec, std::string_view input, std::string& output,
                                       std::size_t max_output) {
  switch (codec) {
    case Codec::zlib: return state_->zlib.decompress(input, output, max_output);
    case Codec::none:
      if (input.size() > max_output) {
        output.clear();
        return detail::decompress_error(
            Errc::too_large, "the uncompressed value is " + std::to_string(input.size()) +
                                 " bytes, above the " + std::to_string(max_output) +
                                 "-byte limit");
      }
      // assign() would keep a capacity grown by an earlier huge value.
      detail::OutputSizing::release_if_oversized(output, input.size());
      output.assign(input.data(), input.size());
      return {};
    case Codec::zstd: return state_->zstd.decompress(input, output, max_output, state_->sizing);
    case Codec::lz4: return state_->lz4.decompress(input, output, max_output, state_->sizing);
  }
  return detail::decompress_error(Errc::unsupported, "unknown codec");
}

Result<std::string_view> PayloadDecompressor::decompress_view(Codec codec, std::string_view input,
                                                              std::size_t max_output) {
  // One codec's buffer is let go when a value of another comes, unless it is
  // small: a channel that mostly carries one codec must not keep a bomb's or
  // a huge value's buffer from a rare value of another for good.
  if (codec == Codec::zlib) {
    detail::OutputSizing::release_if_oversized(state_->view, 0);
    return state_->zlib.decompress_view(input, max_output);
  }
  state_->zlib.release_large_view_buffers();
  const Status done = decompress(codec, input, state_->view, max_output);
  if (!done.ok()) {
    // A refused bomb leaves the buffer at the cap: nothing read it.
    std::string().swap(state_->view);
    return done.error();
  }
  return std::string_view(state_->view);
}

std::size_t PayloadDecompressor::view_bytes_held() const noexcept {
  return state_->zlib.view_bytes_held() + state_->view.capacity();
}

}  // namespace corps
