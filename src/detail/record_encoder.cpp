#include "detail/record_encoder.hpp"

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
      type_header_(options.type_header) {
  (void)make_compressor();  // refuses bad levels now, not at the first record
}

Status RecordEncoder::serialize(std::string_view channel, google::protobuf::Message& message,
                                Compressibility compressibility, SerializedRecord& out) {
  const auto& binding = bound_channel_of_type(registry_, channel, message.GetDescriptor(), Stage::encode);
  stamper_.stamp(message, binding.metadata_field());
  if (!message.SerializeToString(&out.bytes)) {
    return Error(Errc::invalid_argument, Stage::encode,
                 "cannot serialize " + message.GetTypeName() + " for channel '" +
                     std::string(channel) + "': " + message.InitializationErrorString());
  }
  // The descriptor's name lives as long as the registry's binding.
  out.type_name =
      type_header_ == TypeHeader::on ? std::string_view(binding.type()->full_name()) : "";
  out.compressibility = compressibility;
  return {};
}

Result<EncodedRecord> RecordEncoder::finish(const SerializedRecord& record,
                                            PayloadCompressor& compressor) {
  auto value = compressor.compress(record.bytes, record.compressibility);
  if (!value.ok()) return value.error();
  return EncodedRecord{.value = std::move(*value),
                       .codec = compressor.codec_for(record.bytes.size()),
                       .type_name = record.type_name};
}

}  // namespace corps::detail
