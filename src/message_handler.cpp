#include "corps/message_handler.hpp"

#include <utility>

#include "corps/headers.hpp"
#include "detail/record_encoder.hpp"

namespace corps {

EncodedRecord::CorpsHeaders EncodedRecord::headers() const noexcept {
  CorpsHeaders out;
  if (!type_name.empty()) out.items[out.count++] = {type_header, type_name};
  // zlib is what a record without the header means (and all MessageCorps
  // reads), so it goes unnamed.
  // A schema registry's framing is told apart by having no codec header.
  if (codec != Codec::zlib && format == WireFormat::messagecorps) {
    out.items[out.count++] = {codec_header, to_string(codec)};
  }
  if (!metadata.empty()) out.items[out.count++] = {metadata_header, metadata};
  if (!trace.traceparent.empty())
    out.items[out.count++] = {traceparent_header, trace.traceparent.view()};
  if (!trace.parent_span.empty())
    out.items[out.count++] = {parent_span_header, trace.parent_span.view()};
  return out;
}

struct MessageHandler::State {
  State(const ChannelRegistry& registry, const HandlerOptions& options)
      : encoder(registry, options), compressor(encoder.make_compressor()) {}
  detail::RecordEncoder encoder;
  PayloadCompressor compressor;
  detail::SerializedRecord serialized;  // reused: no allocation per record
};

MessageHandler::MessageHandler(ChannelRegistry registry, HandlerOptions options)
    : registry_(std::move(registry)),
      codec_(options.codec),
      state_(std::make_unique<State>(registry_, options)) {}

MessageHandler::~MessageHandler() = default;

MessageHandler::MessageHandler(MessageHandler&&) noexcept = default;
MessageHandler& MessageHandler::operator=(MessageHandler&&) noexcept = default;

Result<EncodedRecord> MessageHandler::encode(std::string_view channel,
                                             google::protobuf::Message& message,
                                             Compressibility compressibility) {
  const Status serialized =
      state_->encoder.serialize(channel, message, compressibility, state_->serialized);
  if (!serialized.ok()) return serialized.error();
  return detail::RecordEncoder::finish(state_->serialized, state_->compressor);
}

void MessageHandler::use_schema_id(std::string_view channel,
                                   const google::protobuf::Descriptor* type, std::int32_t schema_id,
                                   MessageIndexEncoding encoding) {
  const auto& binding = registry_.check(channel, type);
  if (binding.format() != WireFormat::confluent) {
    throw Exception(Error(Errc::invalid_argument, Stage::bind,
                          "channel '" + std::string(channel) +
                              "' is in MessageCorps's format, which has no schema id; bind it "
                              "with WireFormat::confluent"));
  }
  std::string prefix;
  append_confluent_prefix(prefix, schema_id, message_index_path(*type), encoding);
  state_->encoder.set_confluent_prefix(binding, std::move(prefix));
}

}  // namespace corps
