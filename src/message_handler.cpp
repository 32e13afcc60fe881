#include "corps/message_handler.hpp"

#include <utility>

namespace corps {

MessageHandler::MessageHandler(ChannelRegistry registry, HandlerOptions options)
    : registry_(std::move(registry)),
      stamper_(std::move(options.metadata)),
      codec_options_{.codec = options.codec,
                     .zlib_level = options.zlib_level,
                     .zlib_store_below = options.zlib_store_below,
                     .zstd_level = options.zstd_level,
                     .uncompressed_below = options.uncompressed_below},
      compressor_(codec_options_),
      last_codec_(codec_options_.codec) {}

Status MessageHandler::stamp_and_serialize(std::string_view channel,
                                           google::protobuf::Message& message, std::string& out) {
  const auto& binding = registry_.check(channel, message.GetDescriptor(), Stage::encode);
  stamper_.stamp(message, binding.metadata_field());
  if (!message.SerializeToString(&out)) {
    return Error(Errc::invalid_argument, Stage::encode,
                 "cannot serialize " + message.GetTypeName() + " for channel '" +
                     std::string(channel) + "': " + message.InitializationErrorString());
  }
  return {};
}

Result<Payload> MessageHandler::encode(std::string_view channel, google::protobuf::Message& message,
                                       Compressibility compressibility) {
  const Status serialized = stamp_and_serialize(channel, message, serialized_);
  if (!serialized.ok()) return serialized.error();
  Result<Payload> compressed = compressor_.compress(serialized_, compressibility);
  if (compressed.ok()) last_codec_ = compressor_.codec_for(serialized_.size());
  return compressed;
}

}  // namespace corps
