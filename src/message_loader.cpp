#include "corps/message_loader.hpp"

#include <limits>
#include <utility>

#include "corps/confluent_framing.hpp"
#include "corps/metadata.hpp"
#include "corps/schema_registry.hpp"
#include "corps/trace_context.hpp"
#include "detail/channel_lookup.hpp"
#include "detail/header_limits.hpp"
#include "detail/parse_cost.hpp"
#include "detail/record_access.hpp"

namespace corps {

MessageLoader::MessageLoader(ChannelRegistry registry, LoaderOptions options,
                             std::shared_ptr<SchemaRegistryClient> schemas)
    : registry_(std::move(registry)), options_(options), schemas_(std::move(schemas)) {
  if (options_.max_parsed_bytes == 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "LoaderOptions::max_parsed_bytes must be above 0"));
  }
  if (options_.max_decompressed_bytes == 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "LoaderOptions::max_decompressed_bytes must be above 0"));
  }
  // protobuf parses at most INT_MAX bytes; ParseFromArray takes an int.
  constexpr auto parse_limit = static_cast<std::size_t>(std::numeric_limits<int>::max());
  if (options_.max_decompressed_bytes > parse_limit) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "LoaderOptions::max_decompressed_bytes is " +
                              std::to_string(options_.max_decompressed_bytes) +
                              "; protobuf parses at most " + std::to_string(parse_limit) +
                              " bytes, so the cap must not exceed that"));
  }
}

MessageLoader::~MessageLoader() = default;
MessageLoader::MessageLoader(MessageLoader&&) noexcept = default;
MessageLoader& MessageLoader::operator=(MessageLoader&&) noexcept = default;

const detail::ParseCost& MessageLoader::parse_cost(const google::protobuf::Message& prototype) {
  auto& cost = parse_costs_[&prototype];
  if (!cost) cost = std::make_unique<detail::ParseCost>(prototype);
  return *cost;
}

Result<std::shared_ptr<const google::protobuf::Message>> MessageLoader::registry_type(
    std::int32_t schema_id, const std::vector<int>& indexes, const RecordLocation& where) {
  try {
    auto prototype = lookup_deadline_
                         ? schemas_->message_by_id(schema_id, indexes, *lookup_deadline_)
                         : schemas_->message_by_id(schema_id, indexes);
    registry_types_.emplace(prototype->GetDescriptor(), prototype);
    return prototype;
  } catch (const Exception& e) {
    return Error(e.error().code(), Stage::schema,
                 "the record's schema id " + std::to_string(schema_id) + ": " + e.error().message(),
                 where);
  }
}

namespace {

// Whether `payload` may be a serialized message: empty, or starting with a
// tag whose field number is not 0.
bool may_start_a_message(std::string_view payload) {
  return payload.empty() || static_cast<unsigned char>(payload.front()) >= 0x08;
}

std::string path_text(const std::vector<int>& path) {
  std::string text = "[";
  for (std::size_t i = 0; i < path.size(); ++i) {
    text += (i ? ", " : "") + std::to_string(path[i]);
  }
  return text + "]";
}

std::string_view encoding_name(MessageIndexEncoding encoding) {
  return encoding == MessageIndexEncoding::zigzag ? "zigzag" : "plain";
}

}  // namespace

Result<ConfluentFrame> MessageLoader::read_frame(
    std::string_view value, std::string_view topic, const ChannelBinding* binding, bool type_named,
    const RecordLocation& where, std::shared_ptr<const google::protobuf::Message>& prototype,
    std::string& note) {
  const auto configured = options_.message_index_encoding;
  const auto other_encoding = configured == MessageIndexEncoding::zigzag
                                  ? MessageIndexEncoding::plain
                                  : MessageIndexEncoding::zigzag;
  auto chosen = read_confluent_frame(value, configured);
  auto other = read_confluent_frame(value, other_encoding);
  const auto usable = [](const Result<ConfluentFrame>& frame) {
    return frame.ok() && may_start_a_message(frame->payload);
  };
  // Most values read one way only; the first message, [0], reads the same
  // both ways.
  if (!usable(other) || (usable(chosen) && chosen->message_indexes == other->message_indexes)) {
    return chosen;
  }
  if (!usable(chosen)) return other;

  // Two readings: the schema decides. 2: the reading names the record's
  // type; 1: a message of the schema; 0: nothing.
  const auto rank = [&](const ConfluentFrame& frame,
                        std::shared_ptr<const google::protobuf::Message>& type) -> Result<int> {
    const google::protobuf::Descriptor* named = nullptr;
    if (schemas_) {
      auto resolved = registry_type(frame.schema_id, frame.message_indexes, where);
      if (!resolved.ok()) {
        if (resolved.error().code() == Errc::schema_not_found) return 0;
        return resolved.error();  // an unreachable registry decides nothing
      }
      type = *resolved;
      named = type->GetDescriptor();
    } else {
      named = message_at_path(*binding->type()->file(), frame.message_indexes);
      if (named == nullptr) return 0;
    }
    if (binding == nullptr) return 1;
    const bool records_type = type_named ? named->full_name() == binding->type()->full_name()
                                         : registry_.find(topic, named->full_name()) != nullptr;
    return records_type ? 2 : 1;
  };
  std::shared_ptr<const google::protobuf::Message> chosen_type;
  std::shared_ptr<const google::protobuf::Message> other_type;
  const auto chosen_rank = rank(*chosen, chosen_type);
  if (!chosen_rank.ok()) return chosen_rank.error();
  const auto other_rank = rank(*other, other_type);
  if (!other_rank.ok()) return other_rank.error();
  if (*other_rank > *chosen_rank) {
    prototype = std::move(other_type);
    return other;
  }
  if (*other_rank == *chosen_rank) {
    note = " (read as " + std::string(encoding_name(configured)) +
           " varints, its message indexes are " + path_text(chosen->message_indexes) +
           "; read as " + std::string(encoding_name(other_encoding)) + " ones, " +
           path_text(other->message_indexes) +
           ", which the schema cannot rule out: LoaderOptions::message_index_encoding chose " +
           std::string(encoding_name(configured)) + ")";
  }
  prototype = std::move(chosen_type);
  return chosen;
}

std::shared_ptr<const void> MessageLoader::type_owner(
    const google::protobuf::Message& message) const {
  const auto found = registry_types_.find(message.GetDescriptor());
  return found == registry_types_.end() ? nullptr : found->second;
}

std::optional<std::string> MessageLoader::check_headers(const Headers& headers) const {
  std::size_t bytes = 0;
  for (const auto& header : headers) {
    bytes += header.name.size() + (header.value ? header.value->size() : 0);
  }
  return detail::header_limit_breach(headers.size(), bytes, options_);
}

Result<std::unique_ptr<google::protobuf::Message>> MessageLoader::load(const RawRecord& record) {
  LoadFacts facts;
  return load(record, facts);
}

Result<std::unique_ptr<google::protobuf::Message>> MessageLoader::load(const RawRecord& record,
                                                                       LoadFacts& facts) {
  facts = {};
  auto where = [&] {
    return RecordLocation{std::string(record.topic), record.partition, record.offset};
  };
  // The binding of the record's type: the channel's only one, or among
  // several the one its corps-type header or schema id names. Null on a
  // channel that is not bound, decoded by its schema id alone.
  const auto* binding = registry_.find(record.topic);
  const std::size_t bound_types = binding != nullptr ? registry_.type_count(record.topic) : 0;
  if (binding == nullptr && !schemas_) {
    return Error(Errc::unknown_channel, Stage::type,
                 "channel '" + std::string(record.topic) + "' is not bound to a type", where());
  }
  Codec codec = Codec::zlib;
  bool type_named = false;
  if (record.headers != nullptr) {
    if (auto hostile = check_headers(*record.headers)) {
      return Error(Errc::too_large, Stage::headers, std::move(*hostile), where());
    }
    const auto* named = find_header(*record.headers, codec_header);
    if (named != nullptr) {
      const auto parsed = named->value ? parse_codec(*named->value) : std::nullopt;
      if (!parsed) {
        return Error(Errc::unsupported, Stage::decompress,
                     "the record's " + std::string(codec_header) + " header says '" +
                         named->value.value_or("(null)") + "'; corps reads " + codec_names_text() +
                         " (no header: zlib)",
                     where());
      }
      codec = *parsed;
    }
    const auto* declared = find_header(*record.headers, type_header);
    if (binding != nullptr && declared != nullptr && declared->value) {
      binding = registry_.find(record.topic, *declared->value);
      if (binding == nullptr) {
        return Error(Errc::type_mismatch, Stage::type,
                     "the record's " + std::string(type_header) + " header names " +
                         *declared->value + ", a type channel '" + std::string(record.topic) +
                         "' does not carry here (it carries " +
                         detail::carried_types(registry_, record.topic) + ")",
                     where());
      }
      type_named = true;
    }
  }
  const auto what_type = [&] {
    return binding != nullptr ? detail::carried_types(registry_, record.topic)
                              : std::string("a schema registry's type");
  };
  if (record.value == nullptr || record.value_size == 0) {
    return Error(Errc::empty_value, Stage::decompress,
                 std::string(record.value == nullptr ? "null" : "empty") +
                     " record value; expected a " + std::string(to_string(codec)) + " value of " +
                     what_type(),
                 where());
  }
  const auto unnamed_type = [&](const std::string& why_not_the_id) {
    return Error(Errc::type_mismatch, Stage::type,
                 "channel '" + std::string(record.topic) + "' carries " + what_type() +
                     ", and the record names none of them: it has no " + std::string(type_header) +
                     " header, " + why_not_the_id,
                 where());
  };
  // A value without a corps-codec header that starts with byte 0 is framed
  // for a schema registry: no zlib stream, and no protobuf message, starts so.
  static const Headers no_headers;
  const bool confluent_framed = is_confluent_framed({record.value, record.value_size},
                                                    record.headers ? *record.headers : no_headers);
  std::string_view serialized;
  std::shared_ptr<const google::protobuf::Message> registry_prototype;
  std::string index_note;  // how the message indexes were chosen, if the schema could not
  if (confluent_framed) {
    auto frame = read_frame({record.value, record.value_size}, record.topic, binding, type_named,
                            where(), registry_prototype, index_note);
    if (!frame.ok()) {
      return Error(frame.error().code(), Stage::framing, frame.error().message(), where());
    }
    if (frame->payload.size() > options_.max_decompressed_bytes) {
      return Error(Errc::too_large, Stage::framing,
                   "the " + std::to_string(frame->payload.size()) +
                       "-byte message after the schema registry's framing is above the " +
                       std::to_string(options_.max_decompressed_bytes) +
                       "-byte limit (LoaderOptions::max_decompressed_bytes)",
                   where());
    }
    // With a registry, the schema id says the type (a named one is checked
    // against it); without one, a channel of one type is read as that type.
    if (schemas_) {
      if (!registry_prototype) {
        auto resolved = registry_type(frame->schema_id, frame->message_indexes, where());
        if (!resolved.ok()) return resolved.error();
        registry_prototype = std::move(*resolved);
      }
      if (binding != nullptr) {
        const auto& name = registry_prototype->GetDescriptor()->full_name();
        const auto* by_id = registry_.find(record.topic, name);
        if (by_id == nullptr || (type_named && by_id != binding)) {
          return Error(Errc::type_mismatch, Stage::type,
                       "channel '" + std::string(record.topic) + "' carries " +
                           (type_named ? binding->type()->full_name() + " by the record's " +
                                             std::string(type_header) + " header"
                                       : what_type()) +
                           ", but the record's schema id " + std::to_string(frame->schema_id) +
                           " says " + name + index_note,
                       where());
        }
        binding = by_id;
      }
    } else if (bound_types > 1 && !type_named) {
      return unnamed_type("and the consumer has no schema registry to look its schema id " +
                          std::to_string(frame->schema_id) + " up in");
    }
    serialized = frame->payload;
  } else {
    if (binding == nullptr) {
      return Error(Errc::unknown_channel, Stage::type,
                   "channel '" + std::string(record.topic) +
                       "' is not bound to a type, and the record is not framed for a schema "
                       "registry, so no schema id says its type",
                   where());
    }
    if (bound_types > 1 && !type_named) return unnamed_type("and no schema id");
    const auto inflated = decompressor_.decompress_view(codec, {record.value, record.value_size},
                                                        options_.max_decompressed_bytes);
    if (!inflated.ok()) {
      // The codec knows its cap only as a number; the loader says whose it is.
      const bool capped = inflated.error().code() == Errc::too_large;
      return Error(
          inflated.error().code(), Stage::decompress,
          inflated.error().message() + (capped ? " (LoaderOptions::max_decompressed_bytes)" : ""),
          where());
    }
    serialized = *inflated;
  }
  const auto& prototype = binding != nullptr ? binding->prototype() : *registry_prototype;
  // Worded only for an error: a string built (or a descriptor asked for)
  // for every record costs.
  const auto type_name = [&] { return prototype.GetDescriptor()->full_name(); };
  const auto what_bytes = [&] {
    return std::to_string(serialized.size()) +
           (confluent_framed ? " serialized bytes" : " inflated bytes");
  };
  if (const auto cost = parse_cost(prototype).over_budget(serialized, options_.max_parsed_bytes)) {
    return Error(Errc::too_large, Stage::parse,
                 "the " + what_bytes() + " would parse into " + "more than the " +
                     std::to_string(options_.max_parsed_bytes) +
                     "-byte limit (LoaderOptions::max_parsed_bytes) of memory as a " + type_name() +
                     ": at least " + std::to_string(*cost) + " B counted before the walk stopped",
                 where());
  }
  auto message = std::unique_ptr<google::protobuf::Message>(prototype.New());
  if (!message->ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return Error(Errc::parse_failed, Stage::parse,
                 "the " + what_bytes() + " are not a valid " + type_name() + index_note, where());
  }
  facts.binding = binding;
  facts.parsed_bytes = serialized.size();
  const auto* metadata_field =
      binding != nullptr ? binding->metadata_field()
                         : detail::RecordAccess::metadata_field_of(message->GetDescriptor());
  // A type without a metadata field (on a schema registry's channel) has
  // its metadata in the corps-metadata header, read by Record::metadata().
  if (metadata_field == nullptr) return message;
  const auto* reflection = binding != nullptr ? binding->reflection() : message->GetReflection();
  const bool has_metadata = reflection->HasField(*message, metadata_field);
  // An instrumented producer that knows no corps metadata may still say
  // which trace the record is part of.
  const Header* traceparent =
      record.headers != nullptr ? find_header(*record.headers, traceparent_header) : nullptr;
  const std::string_view traceparent_value = traceparent != nullptr && traceparent->value
                                                 ? std::string_view(*traceparent->value)
                                                 : std::string_view();
  // A schema registry's serializers stamp no corps metadata: such a record
  // is read without it, and its position is written only where it can be
  // (or where the trace header needs the metadata made).
  if (confluent_framed && !has_metadata && traceparent_trace_id(traceparent_value).empty()) {
    return message;
  }
  if (!has_metadata && !confluent_framed) {
    return Error(Errc::missing_metadata, Stage::metadata,
                 "the " + type_name() + " has no '" + metadata_field->name() +
                     "' metadata (field " + std::to_string(metadata_field->number()) +
                     "); the record is of another type or was not sent through a handler",
                 where());
  }
  complete_metadata(*message, metadata_field, record.partition, record.offset, traceparent_value,
                    reflection);
  return message;
}

}  // namespace corps
