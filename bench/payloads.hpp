// The messages the benchmark sends, and the exact record values corps makes
// of them: the raw librdkafka baseline sends those same bytes, so the only
// difference between the two is corps's own per-message work.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corps/message_handler.hpp"
#include "corps/metadata.pb.h"
#include "corps/registry.hpp"
#include "corps/schema_registry.hpp"
#include "frames.hpp"

namespace corps::bench {

/// A set of sample messages of one type, cycled through while sending.
class Payload {
 public:
  /// Small messages: `samples` corps.proto.Prediction as the pipeline's
  /// predict service sends them (about 150 bytes with their metadata),
  /// encoded as `codec` says.
  [[nodiscard]] static Payload predictions(std::size_t samples, const CodecOptions& codec);
  /// Video frames: one corps.proto.Image per frame of `frames`.
  [[nodiscard]] static Payload frames(const FrameSet& frames, const CodecOptions& codec);

  /// "small" or "frame".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// The full protobuf type name.
  [[nodiscard]] const std::string& type_name() const;
  /// Where the data came from.
  [[nodiscard]] const std::string& source() const noexcept { return source_; }
  [[nodiscard]] std::size_t samples() const noexcept { return messages_.size(); }

  /// Frames this payload for a schema registry from now on, as a channel
  /// bound with WireFormat::confluent is: its type's file registered in
  /// `schemas`, every value remade as magic byte, schema id, indexes and the
  /// stamped message, uncompressed.
  void frame_for_registry(std::shared_ptr<SchemaRegistryClient> schemas);
  /// The registry the values are framed for, or null (frame_for_registry).
  [[nodiscard]] const std::shared_ptr<SchemaRegistryClient>& schemas() const noexcept {
    return schemas_;
  }
  /// The schema id the values carry (frame_for_registry), or 0.
  [[nodiscard]] std::int32_t schema_id() const noexcept { return schema_id_; }
  /// How values are laid out: the codec's name, or "confluent".
  [[nodiscard]] std::string layout() const;

  /// A registry binding `topic` to this payload's type, in its wire format.
  [[nodiscard]] ChannelRegistry registry(const std::string& topic) const;
  /// How corps encodes this payload: the same codec and level as its values.
  [[nodiscard]] HandlerOptions handler_options() const;
  /// The codec it is encoded with (HandlerOptions::codec).
  [[nodiscard]] Codec codec() const noexcept { return codec_.codec; }

  /// Sample `index % samples()`, ready to be sent as a new message would be:
  /// its trace id cleared, so stamping does all its work.
  [[nodiscard]] google::protobuf::Message& fresh(std::size_t index);
  /// The record value corps made of sample `index % samples()`.
  [[nodiscard]] const std::string& value(std::size_t index) const {
    return values_[index % values_.size()];
  }
  /// The codec that value is in: codec(), or none for a short zstd or lz4
  /// value. Any but zlib is named in a corps-codec header; a value framed
  /// for a schema registry has none, and says zlib here.
  [[nodiscard]] Codec value_codec(std::size_t index) const {
    return value_codecs_[index % value_codecs_.size()];
  }

  /// Mean size of a sample serialized (metadata included).
  [[nodiscard]] double serialized_bytes() const noexcept { return serialized_bytes_; }
  /// Mean size of a record value.
  [[nodiscard]] double value_bytes() const noexcept { return value_bytes_; }
  /// The largest record value.
  [[nodiscard]] std::size_t max_value_bytes() const noexcept { return max_value_bytes_; }

 private:
  Payload(std::string name, std::string source, const CodecOptions& codec,
          std::vector<std::unique_ptr<google::protobuf::Message>> messages);

  // Encodes every sample with `handler` on the samples' channel.
  void encode_values(MessageHandler& handler);

  std::string name_;
  CodecOptions codec_;
  std::string source_;
  std::vector<std::unique_ptr<google::protobuf::Message>> messages_;
  // Each message's metadata, found once rather than per send.
  std::vector<corps::proto::MessageData*> metadata_;
  std::vector<std::string> values_;
  std::vector<Codec> value_codecs_;
  double serialized_bytes_ = 0;
  double value_bytes_ = 0;
  std::size_t max_value_bytes_ = 0;
  WireFormat format_ = WireFormat::messagecorps;
  std::shared_ptr<SchemaRegistryClient> schemas_;
  std::int32_t schema_id_ = 0;
};

}  // namespace corps::bench
