// MessageHandler: the produce side of the record codec, the mirror of
// MessageLoader.
//
//   typed message ──stamp metadata──► serialize ──compress──► value + corps headers
//
// encode() returns the value and the corps headers that say how to read it
// (`corps-type`, and `corps-codec` for any codec but zlib); MessageLoader
// reads exactly those. Under zlib, the default, the value is a standard zlib
// stream of the serialized message, what MessageCorps's
// `zlib.compress(msg.SerializeToString(), -1)` produces, and no codec header
// is needed: MessageCorps reads it unchanged.
#pragma once

#include <google/protobuf/message.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "corps/codec.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/metadata.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"
#include "corps/trace_context.hpp"

namespace corps {

/// Whether each record carries a `corps-type` header naming its type.
enum class TypeHeader { off, on };

/// Whether each record carries W3C trace context (a `traceparent` header,
/// and `corps-parent-span` when it continues a trace; see trace_context.hpp).
enum class TraceHeader { off, on };

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
  /// Whether each record names its type in a `corps-type` header, which
  /// corps readers check against their channel's type.
  TypeHeader type_header = TypeHeader::on;
  /// Whether each record carries its trace in a `traceparent` header, which
  /// OpenTelemetry's instrumentations and corps consumers read.
  TraceHeader trace_header = TraceHeader::on;
};

/// A record's value as encoded, with what its corps headers must say.
struct EncodedRecord {
  /// The value, in `codec`'s format.
  Payload value;
  /// The codec the value is in: HandlerOptions::codec, or none for a short
  /// zstd or lz4 value (HandlerOptions::uncompressed_below).
  Codec codec = Codec::zlib;
  /// The message's full type name for the `corps-type` header; empty with
  /// TypeHeader::off.
  std::string_view type_name;
  /// How the value is laid out: for WireFormat::confluent, the framing's
  /// prefix and the message; `codec` does not apply and is not named.
  WireFormat format = WireFormat::messagecorps;
  /// The serialized metadata for the `corps-metadata` header, for a type
  /// with no metadata field; empty otherwise.
  std::string metadata;
  /// The `traceparent` and `corps-parent-span` values; each empty if not
  /// written.
  TraceHeaders trace;

  /// The corps headers, as (name, value), in the order written.
  struct CorpsHeaders {
    std::array<std::pair<std::string_view, std::string_view>, 5> items;
    std::size_t count = 0;
    [[nodiscard]] auto begin() const noexcept { return items.begin(); }
    [[nodiscard]] auto end() const noexcept {
      return items.begin() + static_cast<std::ptrdiff_t>(count);
    }
    [[nodiscard]] std::size_t size() const noexcept { return count; }
  };
  /// `corps-type` (unless type_name is empty), then `corps-codec` (unless
  /// the codec is zlib, which is what no header means, or the format is a
  /// schema registry's), then `corps-metadata` (unless metadata is empty),
  /// then `traceparent` and `corps-parent-span` (each unless empty).
  [[nodiscard]] CorpsHeaders headers() const noexcept;
};

/// Turns typed messages into record values for their channel.
/// Keeps its compressor and scratch buffer between records.
/// Not thread-safe: one handler per thread (corps::Producer serialises).
class MessageHandler {
 public:
  /// Copies `registry` (copies share bindings). Throws corps::Exception
  /// (Stage::config) for bad options.
  explicit MessageHandler(ChannelRegistry registry, HandlerOptions options = {});
  ~MessageHandler();
  MessageHandler(MessageHandler&&) noexcept;
  MessageHandler& operator=(MessageHandler&&) noexcept;

  /// Stamps `message`'s metadata in place, then serializes and compresses it.
  /// Throws corps::Exception if `channel` is unbound (unknown_channel) or bound
  /// to another type (type_mismatch): those are mistakes in the calling code.
  /// Returns an Error (Stage::encode) if the message cannot be serialized.
  /// `compressibility` says whether the message's bulk is compressed
  /// already (see Compressibility).
  [[nodiscard]] Result<EncodedRecord> encode(
      std::string_view channel, google::protobuf::Message& message,
      Compressibility compressibility = Compressibility::normal);

  /// Frames records of `type` on `channel`, bound with WireFormat::confluent,
  /// with `schema_id` and `type`'s index path, as a Producer does once the
  /// registry gave it the id: for code that sends encoded values itself.
  /// Until then such a channel's records cannot be encoded. Throws
  /// corps::Exception (Stage::bind) if the channel does not carry `type` or
  /// is in MessageCorps's format.
  void use_schema_id(std::string_view channel, const google::protobuf::Descriptor* type,
                     std::int32_t schema_id,
                     MessageIndexEncoding encoding = MessageIndexEncoding::zigzag);

  /// The codec values are compressed with (HandlerOptions::codec).
  [[nodiscard]] Codec codec() const noexcept { return codec_; }

  /// The registry this handler checks channels against.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept { return registry_; }

 private:
  struct State;  // the encoder, its compressor and scratch buffer
  ChannelRegistry registry_;
  Codec codec_;
  std::unique_ptr<State> state_;
};

}  // namespace corps
