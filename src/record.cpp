#include "corps/record.hpp"

#include "corps/codec.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/metadata.hpp"

namespace corps {

Record::Record(RecordLocation location, std::optional<std::string> key,
               std::optional<std::string> value, Headers headers, std::int64_t timestamp_ms,
               Result<std::unique_ptr<google::protobuf::Message>> decoded,
               const google::protobuf::FieldDescriptor* metadata_field,
               std::shared_ptr<const void> type_owner)
    : location_(std::move(location)),
      key_(std::move(key)),
      value_(std::move(value)),
      headers_(std::move(headers)),
      timestamp_ms_(timestamp_ms),
      type_owner_(std::move(type_owner)),
      decoded_(std::move(decoded)),
      metadata_field_(metadata_field) {}

Record& Record::operator=(Record&& other) noexcept {
  if (this == &other) return *this;
  // Member order would release the old type owner first, while the old
  // message, which may be of that type, still exists.
  decoded_ = std::move(other.decoded_);
  type_owner_ = std::move(other.type_owner_);
  location_ = std::move(other.location_);
  key_ = std::move(other.key_);
  value_ = std::move(other.value_);
  headers_ = std::move(other.headers_);
  timestamp_ms_ = other.timestamp_ms_;
  metadata_field_ = other.metadata_field_;
  fetched_at_ = other.fetched_at_;
  decoded_at_ = other.decoded_at_;
  return *this;
}

Framing Record::framing() const noexcept {
  if (value_ && is_confluent_framed(*value_, headers_)) return Framing::confluent;
  return find_header(headers_, codec_header) != nullptr ? Framing::corps_codec
                                                        : Framing::messagecorps;
}

std::optional<std::int32_t> Record::schema_id() const noexcept {
  if (framing() != Framing::confluent || value_->size() < 5) return std::nullopt;
  std::uint32_t id = 0;
  for (std::size_t i = 1; i <= 4; ++i) id = (id << 8) | static_cast<unsigned char>((*value_)[i]);
  return static_cast<std::int32_t>(id);
}

proto::MessageData Record::metadata() const {
  const auto& decoded = message();  // throws the decode error first
  if (metadata_field_ != nullptr) return read_metadata(decoded, metadata_field_);
  // A type without a metadata field carries it in a header, if its sender
  // wrote one.
  const auto* header = find_header(headers_, metadata_header);
  if (header == nullptr || !header->value) {
    throw Exception(Error(Errc::no_metadata_field, Stage::metadata,
                          "the record's " + decoded.GetDescriptor()->full_name() +
                              " has no metadata field and the record no " +
                              std::string(metadata_header) + " header",
                          location_));
  }
  proto::MessageData metadata;
  if (!metadata.ParseFromString(*header->value)) {
    throw Exception(Error(Errc::corrupt_data, Stage::metadata,
                          "the record's " + std::string(metadata_header) +
                              " header is not a serialized " + metadata.GetTypeName(),
                          location_));
  }
  metadata.set_partition(location_.partition);
  metadata.set_offset(location_.offset);
  if (metadata.trace_id().empty()) {
    const auto* traceparent = find_header(headers_, traceparent_header);
    if (traceparent != nullptr && traceparent->value) {
      metadata.set_trace_id(std::string(traceparent_trace_id(*traceparent->value)));
    }
  }
  return metadata;
}

std::optional<TraceContext> Record::trace_context() const {
  if (const auto* header = find_header(headers_, traceparent_header);
      header != nullptr && header->value) {
    if (auto context = parse_traceparent(*header->value)) {
      const auto* parent = find_header(headers_, parent_span_header);
      if (parent != nullptr && parent->value && is_span_id(*parent->value)) {
        context->parent_span_id = *parent->value;
      }
      return context;
    }
  }
  // A record without the header (MessageCorps writes none): its metadata.
  if (!ok()) return std::nullopt;
  proto::MessageData metadata;
  try {
    metadata = this->metadata();
  } catch (const Exception&) {
    return std::nullopt;  // a type with no metadata, sent without it
  }
  if (!is_trace_id(metadata.trace_id())) return std::nullopt;
  TraceContext context{
      .trace_id = {}, .span_id = span_id_of_uuid(metadata.uuid()), .parent_span_id = {}};
  for (const char c : metadata.trace_id()) {
    context.trace_id += static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  }
  return context;
}

void Record::throw_not(const std::string& wanted) const {
  if (!ok()) throw Exception(error());
  throw Exception(Error(Errc::type_mismatch, Stage::type,
                        "record holds a " + message().GetTypeName() + ", not a " + wanted,
                        location_));
}

}  // namespace corps
