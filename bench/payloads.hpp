// The messages the benchmark sends, and the exact record values corps makes
// of them: the raw librdkafka baseline sends those same bytes, so the only
// difference between the two is corps's own per-message work.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "corps/message_handler.hpp"
#include "corps/metadata.pb.h"
#include "corps/registry.hpp"
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

  /// A registry binding `topic` to this payload's type.
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
  /// value. Any but zlib is named in a corps-codec header.
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
};

}  // namespace corps::bench
