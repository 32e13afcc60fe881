#include "corps/message_handler.hpp"

#include <utility>

namespace corps {

MessageHandler::MessageHandler(ChannelRegistry registry, HandlerOptions options)
    : registry_(std::move(registry)),
      stamper_(std::move(options.metadata)),
      compressor_(CodecOptions{.codec = options.codec,
                               .zlib_level = options.zlib_level,
                               .zstd_level = options.zstd_level}) {}

Result<Payload> MessageHandler::encode(std::string_view channel,
                                       google::protobuf::Message& message) {
  const auto& binding = registry_.check(channel, message.GetDescriptor(), Stage::encode);
  stamper_.stamp(message, binding.metadata_field());
  if (!message.SerializeToString(&serialized_)) {
    return Error(Errc::invalid_argument, Stage::encode,
                 "cannot serialize " + message.GetTypeName() + " for channel '" +
                     std::string(channel) + "': " + message.InitializationErrorString());
  }
  return compressor_.compress(serialized_);
}

}  // namespace corps
