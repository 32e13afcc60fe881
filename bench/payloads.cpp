#include "payloads.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "corps/image.pb.h"
#include "corps/prediction.pb.h"

namespace corps::bench {

namespace {

// The channel the samples are encoded on once; the value does not depend on
// the channel's name.
constexpr const char* sample_channel = "bench-samples";

corps::proto::MessageData* metadata_of(google::protobuf::Message& message) {
  if (auto* prediction = dynamic_cast<corps::proto::Prediction*>(&message))
    return prediction->mutable_message_data();
  return static_cast<corps::proto::Image&>(message).mutable_message_data();
}

}  // namespace

Payload Payload::predictions(std::size_t samples, const CodecOptions& codec) {
  static constexpr std::array labels{"person", "face"};
  std::vector<std::unique_ptr<google::protobuf::Message>> messages;
  for (std::size_t i = 0; i < samples; ++i) {
    auto prediction = std::make_unique<corps::proto::Prediction>();
    prediction->add_object(labels[i % labels.size()]);
    prediction->set_frame(static_cast<std::int64_t>(1000 + i));
    prediction->set_source("vtest");
    messages.push_back(std::move(prediction));
  }
  return Payload("small", "generated: one detected object per frame", codec, std::move(messages));
}

Payload Payload::frames(const FrameSet& frames, const CodecOptions& codec) {
  std::vector<std::unique_ptr<google::protobuf::Message>> messages;
  for (std::size_t i = 0; i < frames.pixels.size(); ++i) {
    auto image = std::make_unique<corps::proto::Image>();
    image->set_image_data(frames.pixels[i]);
    image->set_width(frames.width);
    image->set_height(frames.height);
    image->set_frame(static_cast<std::int64_t>(i));
    image->set_pixel_format(corps::proto::PIXEL_FORMAT_RAW_BGR8);
    image->set_source("vtest");
    messages.push_back(std::move(image));
  }
  return Payload("frame", frames.source, codec, std::move(messages));
}

Payload::Payload(std::string name, std::string source, const CodecOptions& codec,
                 std::vector<std::unique_ptr<google::protobuf::Message>> messages)
    : name_(std::move(name)),
      codec_(codec),
      source_(std::move(source)),
      messages_(std::move(messages)) {
  for (auto& message : messages_) metadata_.push_back(metadata_of(*message));
  MessageHandler handler(registry(sample_channel), handler_options());
  encode_values(handler);
}

void Payload::encode_values(MessageHandler& handler) {
  values_.clear();
  value_codecs_.clear();
  serialized_bytes_ = value_bytes_ = 0;
  max_value_bytes_ = 0;
  for (auto& message : messages_) {
    auto encoded = handler.encode(sample_channel, *message);
    if (!encoded.ok()) throw std::runtime_error("encode: " + encoded.error().to_string());
    values_.emplace_back(encoded->value.view());
    // A framed value has no corps-codec header, as a zlib one has none.
    value_codecs_.push_back(encoded->format == WireFormat::confluent ? Codec::zlib
                                                                     : encoded->codec);
    serialized_bytes_ += static_cast<double>(message->ByteSizeLong());
    value_bytes_ += static_cast<double>(values_.back().size());
    max_value_bytes_ = std::max(max_value_bytes_, values_.back().size());
  }
  serialized_bytes_ /= static_cast<double>(messages_.size());
  value_bytes_ /= static_cast<double>(messages_.size());
}

void Payload::frame_for_registry(std::shared_ptr<SchemaRegistryClient> schemas) {
  const auto* type = messages_.front()->GetDescriptor();
  // The subject the producer's topic strategy gives every topic of the run
  // holds the same file, which keeps one id.
  schema_id_ = schemas->register_file("corps-bench-" + name_ + "-value", *type->file());
  schemas_ = std::move(schemas);
  format_ = WireFormat::confluent;
  MessageHandler handler(registry(sample_channel), handler_options());
  handler.use_schema_id(sample_channel, type, schema_id_);
  encode_values(handler);
}

std::string Payload::layout() const {
  return format_ == WireFormat::confluent ? "confluent" : std::string(to_string(codec_.codec));
}

const std::string& Payload::type_name() const {
  return messages_.front()->GetDescriptor()->full_name();
}

ChannelRegistry Payload::registry(const std::string& topic) const {
  ChannelRegistry registry;
  registry.bind(topic, type_name(), format_);
  return registry;
}

HandlerOptions Payload::handler_options() const {
  HandlerOptions options;
  options.codec = codec_.codec;
  options.zlib_level = codec_.zlib_level;
  options.zlib_store_below = codec_.zlib_store_below;
  options.zstd_level = codec_.zstd_level;
  options.uncompressed_below = codec_.uncompressed_below;
  return options;
}

google::protobuf::Message& Payload::fresh(std::size_t index) {
  const std::size_t sample = index % messages_.size();
  metadata_[sample]->clear_trace_id();
  return *messages_[sample];
}

}  // namespace corps::bench
