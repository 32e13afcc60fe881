// MessageHandler: the produce side of the codec pipeline.
//
//   typed message ──stamp metadata──► serialize ──zlib──► Kafka record value
//
// The value is a standard zlib stream of the serialized message, exactly what
// MessageCorps's `zlib.compress(msg.SerializeToString(), -1)` produces, so
// MessageCorps reads it unchanged.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/metadata.hpp"
#include "corps/payload_codec.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps {

/// How records are stamped and compressed on produce.
struct HandlerOptions {
  /// What each record says about its sender; from ENVIRONMENT and
  /// LOG_TAG_SERVICE by default.
  MetadataDefaults metadata = MetadataDefaults::from_environment();
  /// zlib level: -1 (zlib's default, 6, as MessageCorps) or 0..9.
  int zlib_level = default_zlib_level;
  /// zlib values shorter than this many bytes are stored, not deflated:
  /// still zlib streams MessageCorps reads (see default_zlib_store_below).
  /// 0 deflates every value at zlib_level.
  std::size_t zlib_store_below = default_zlib_store_below;
  /// How values are compressed. zlib is MessageCorps's format; any other
  /// codec is named in a `corps-codec` header that corps readers follow and
  /// MessageCorps does not (see payload_codec.hpp).
  Codec codec = Codec::zlib;
  /// Zstandard level (1..19) when codec is zstd.
  int zstd_level = 1;
  /// zstd and lz4 values shorter than this many bytes are sent uncompressed,
  /// under codec none (see default_uncompressed_below); 0 compresses every
  /// value.
  std::size_t uncompressed_below = default_uncompressed_below;
};

/// Turns typed messages into record values for their channel.
/// Keeps its compressor and scratch buffer between records.
/// Not thread-safe: one handler per thread (corps::Producer serialises).
class MessageHandler {
 public:
  /// Copies `registry` (copies share bindings). Throws corps::Exception
  /// (Stage::config) for bad options.
  explicit MessageHandler(ChannelRegistry registry, HandlerOptions options = {});

  /// Stamps `message`'s metadata in place, then serializes and compresses it.
  /// Throws corps::Exception if `channel` is unbound (unknown_channel) or bound
  /// to another type (type_mismatch): those are mistakes in the calling code.
  /// Returns an Error (Stage::encode) if the message cannot be serialized.
  /// `compressibility` says whether the message's bulk is compressed
  /// already (see Compressibility).
  [[nodiscard]] Result<Payload> encode(std::string_view channel, google::protobuf::Message& message,
                                       Compressibility compressibility = Compressibility::normal);

  /// The first half of encode(): stamps `message` and serializes it into
  /// `out` (replacing its contents), for a caller that compresses elsewhere
  /// (corps::Producer with compression_threads). Throws and fails as
  /// encode() does.
  [[nodiscard]] Status stamp_and_serialize(std::string_view channel,
                                           google::protobuf::Message& message, std::string& out);

  /// The codec values are compressed with (HandlerOptions::codec).
  [[nodiscard]] Codec codec() const noexcept { return compressor_.codec(); }
  /// The codec the last successful encode() wrote its value in: codec(), or
  /// none for a short zstd or lz4 value (HandlerOptions::uncompressed_below).
  /// The record's `corps-codec` header names this one. Before the first
  /// encode(), codec().
  [[nodiscard]] Codec last_codec() const noexcept { return last_codec_; }
  /// The codec and levels, to make compressors that write what this one does.
  [[nodiscard]] const CodecOptions& codec_options() const noexcept { return codec_options_; }

  /// The registry this handler checks channels against.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept { return registry_; }

 private:
  ChannelRegistry registry_;
  MetadataStamper stamper_;
  CodecOptions codec_options_;
  PayloadCompressor compressor_;
  Codec last_codec_;
  std::string serialized_;
};

}  // namespace corps
