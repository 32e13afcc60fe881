#include "detail/record_encoder.hpp"

#include <cstring>
#include <utility>

#include "detail/channel_lookup.hpp"

namespace corps::detail {

RecordEncoder::RecordEncoder(ChannelRegistry registry, const HandlerOptions& options)
    : registry_(std::move(registry)),
      stamper_(options.metadata),
      codec_options_{.codec = options.codec,
                     .zlib_level = options.zlib_level,
                     .zlib_store_below = options.zlib_store_below,
                     .zstd_level = options.zstd_level,
                     .uncompressed_below = options.uncompressed_below},
      type_header_(options.type_header),
      trace_header_(options.trace_header) {
  (void)make_compressor();  // refuses bad levels now, not at the first record
}

Status RecordEncoder::serialize(std::string_view channel, google::protobuf::Message& message,
                                Compressibility compressibility, SerializedRecord& out) {
  const auto& binding =
      bound_channel_of_type(registry_, channel, message.GetDescriptor(), Stage::encode);
  out.confluent_prefix = {};
  out.metadata.clear();
  if (binding.format() == WireFormat::confluent) {
    const auto prefix = confluent_prefixes_.find(&binding);
    if (prefix == confluent_prefixes_.end()) {
      return Error(Errc::invalid_argument, Stage::encode,
                   "channel '" + std::string(channel) + "' is in a schema registry's format and " +
                       binding.type()->full_name() +
                       " has no schema id on it: send through a "
                       "Producer given a schema registry (ProducerOptions::schema_registry)");
    }
    out.confluent_prefix = prefix->second;
  }
  const proto::MessageData* stamped = nullptr;
  if (binding.metadata_field() != nullptr) {
    stamped = &stamper_.stamp(message, binding.metadata_field());
  } else {
    header_metadata_.Clear();
    stamped = &stamper_.stamp(header_metadata_);
    header_metadata_.SerializeToString(&out.metadata);
  }
  out.trace = trace_header_ == TraceHeader::on
                  ? TraceHeaders::of(stamped->trace_id(), stamped->uuid())
                  : TraceHeaders{};
  if (!message.SerializeToString(&out.bytes)) {
    return Error(Errc::invalid_argument, Stage::encode,
                 "cannot serialize " + message.GetTypeName() + " for channel '" +
                     std::string(channel) + "': " + message.InitializationErrorString());
  }
  // The descriptor's name lives as long as the registry's binding. A
  // channel of several types needs the header to tell its records apart.
  const bool named = type_header_ == TypeHeader::on || registry_.type_count(channel) > 1;
  out.type_name = named ? std::string_view(binding.type()->full_name()) : "";
  out.compressibility = compressibility;
  return {};
}

void RecordEncoder::set_confluent_prefix(const ChannelBinding& binding, std::string prefix) {
  confluent_prefixes_[&binding] = std::move(prefix);
}

Result<EncodedRecord> RecordEncoder::finish(const SerializedRecord& record,
                                            PayloadCompressor& compressor) {
  if (!record.confluent_prefix.empty()) {
    // A schema registry's framing: the message after its prefix, as is.
    auto value = Payload::with_capacity(record.confluent_prefix.size() + record.bytes.size());
    std::memcpy(value.data(), record.confluent_prefix.data(), record.confluent_prefix.size());
    std::memcpy(value.data() + record.confluent_prefix.size(), record.bytes.data(),
                record.bytes.size());
    value.set_size(record.confluent_prefix.size() + record.bytes.size());
    return EncodedRecord{.value = std::move(value),
                         .codec = Codec::none,
                         .type_name = record.type_name,
                         .format = WireFormat::confluent,
                         .metadata = record.metadata,
                         .trace = record.trace};
  }
  auto value = compressor.compress(record.bytes, record.compressibility);
  if (!value.ok()) return value.error();
  return EncodedRecord{.value = std::move(*value),
                       .codec = compressor.codec_for(record.bytes.size()),
                       .type_name = record.type_name,
                       .format = WireFormat::messagecorps,
                       .metadata = {},
                       .trace = record.trace};
}

}  // namespace corps::detail
