// RecordEncoder: MessageHandler's work in its two halves, for a producer
// that compresses on other threads. serialize() stamps and serializes on the
// sending thread (the message is the caller's only until send() returns);
// finish() compresses and names the corps headers on any thread, with that
// thread's own compressor. Either way a record comes out the same.
#pragma once

#include <google/protobuf/message.h>

#include <map>
#include <string>
#include <string_view>

#include "corps/message_handler.hpp"
#include "corps/metadata.hpp"

namespace corps::detail {

/// A message stamped and serialized for its channel, not yet compressed.
struct SerializedRecord {
  std::string bytes;
  std::string_view type_name;  // empty with TypeHeader::off
  Compressibility compressibility = Compressibility::normal;
  // A schema registry's framing: its prefix (magic byte, schema id,
  // indexes), kept by the encoder; empty for MessageCorps's format.
  std::string_view confluent_prefix;
  // The serialized metadata of a type without a metadata field.
  std::string metadata;
  // traceparent and corps-parent-span, from the metadata as stamped.
  TraceHeaders trace;
};

class RecordEncoder {
 public:
  /// Throws corps::Exception (Stage::config) for bad codec options.
  RecordEncoder(ChannelRegistry registry, const HandlerOptions& options);

  /// Stamps `message` and serializes it into `out` (its buffer reused).
  /// Throws for an unbound channel or the wrong type; an Error (Stage::encode)
  /// if the message cannot be serialized. Not thread-safe.
  [[nodiscard]] Status serialize(std::string_view channel, google::protobuf::Message& message,
                                 Compressibility compressibility, SerializedRecord& out);

  /// A compressor writing what these options say: one per thread.
  [[nodiscard]] PayloadCompressor make_compressor() const {
    return PayloadCompressor(codec_options_);
  }

  /// `record` compressed with `compressor` (one of make_compressor()'s),
  /// or behind its schema registry framing, with what its corps headers
  /// must say.
  [[nodiscard]] static Result<EncodedRecord> finish(const SerializedRecord& record,
                                                    PayloadCompressor& compressor);

  /// The framing prefix of `binding`'s type on its channel, bound with
  /// WireFormat::confluent, once its schema id is known (the producer looks
  /// it up). Until then a send of the type to the channel fails. Not
  /// thread-safe: set before sending.
  void set_confluent_prefix(const ChannelBinding& binding, std::string prefix);

 private:
  ChannelRegistry registry_;  // a copy: copies share bindings
  MetadataStamper stamper_;
  proto::MessageData header_metadata_;  // reused for types without a metadata field
  // By binding: a channel of several types has a schema id for each.
  std::map<const ChannelBinding*, std::string> confluent_prefixes_;
  CodecOptions codec_options_;
  TypeHeader type_header_;
  TraceHeader trace_header_;
};

}  // namespace corps::detail
