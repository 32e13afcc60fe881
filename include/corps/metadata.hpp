// Metadata stamping: what every record says about where and when it was sent.
//
// On produce, corps fills the metadata sub-message as MessageCorps does
// (iso_date, environment, sending_service, uuid, trace_id kept when already
// set) and also sets timestamp, which MessageCorps leaves at 0. On consume,
// the record's offset and partition are written into it.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corps/error.hpp"
#include "corps/metadata.pb.h"

namespace corps {

/// What the sender says about itself in every record's metadata.
struct MetadataDefaults {
  /// Where the service runs.
  proto::Environment environment = proto::DEVELOPMENT;
  /// The service's name.
  std::string sending_service = "NOTSET";

  /// Reads ENVIRONMENT (PRODUCTION, DEVELOPMENT or STAGING; default
  /// DEVELOPMENT) and LOG_TAG_SERVICE (default "NOTSET"), as MessageCorps
  /// does. Throws corps::Exception (Stage::config) for an unknown
  /// environment name.
  [[nodiscard]] static MetadataDefaults from_environment();
};

/// Parses an environment name ("PRODUCTION", "development", ...); throws
/// corps::Exception (Stage::config) naming the accepted names.
[[nodiscard]] proto::Environment parse_environment(std::string_view name);

/// Fills metadata sub-messages. Reuses its random generator and its cached
/// date formatting, so stamping costs well under a microsecond.
/// Not thread-safe: one stamper per thread.
class MetadataStamper {
 public:
  explicit MetadataStamper(MetadataDefaults defaults = MetadataDefaults::from_environment());
  ~MetadataStamper();
  MetadataStamper(MetadataStamper&&) noexcept;
  MetadataStamper& operator=(MetadataStamper&&) noexcept;

  /// Stamps `metadata` for sending now: timestamp, iso_date, environment,
  /// sending_service, a fresh uuid, and, unless one is set, the trace_id of
  /// the trace this thread continues (corps::TraceScope) or a fresh one.
  /// Returns `metadata`.
  const proto::MessageData& stamp(proto::MessageData& metadata);

  /// Stamps the metadata field `field` of `message` (of any type, generated
  /// or dynamic, whose metadata has MessageCorps's shape), creating it.
  /// Returns what was stamped, valid until the next stamp.
  const proto::MessageData& stamp(google::protobuf::Message& message,
                                  const google::protobuf::FieldDescriptor* field);

  /// The defaults this stamper writes.
  [[nodiscard]] const MetadataDefaults& defaults() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Writes a consumed record's offset and partition into the metadata field
/// `field` of `message`, creating the sub-message if it is absent.
void record_position(google::protobuf::Message& message,
                     const google::protobuf::FieldDescriptor* field, std::int64_t partition,
                     std::int64_t offset);

/// Sets the trace_id of the metadata in field `field` of `message` to
/// `trace_id` if it has none, creating the sub-message if it is absent:
/// a record's `traceparent` header names the trace its sender (an
/// instrumented producer that knows no metadata) was part of.
void fill_trace_id(google::protobuf::Message& message,
                   const google::protobuf::FieldDescriptor* field, std::string_view trace_id);

/// What a consumer writes into a record's metadata (field `field` of
/// `message`) as it reads it: its partition and offset (record_position),
/// and, if the metadata has no trace_id, the trace id of `traceparent`, the
/// value of the record's W3C traceparent header (empty if it has none; an
/// invalid one is ignored). One pass over the metadata: this runs for every
/// record read. `reflection`, if given, is `message`'s (its type's, asked
/// for once: asking a message costs a std::call_once).
void complete_metadata(google::protobuf::Message& message,
                       const google::protobuf::FieldDescriptor* field, std::int64_t partition,
                       std::int64_t offset, std::string_view traceparent,
                       const google::protobuf::Reflection* reflection = nullptr);

/// A copy of the metadata held in field `field` of `message`, converted to
/// corps.proto.MessageData if the message's metadata type is another one of
/// the same shape.
[[nodiscard]] proto::MessageData read_metadata(const google::protobuf::Message& message,
                                               const google::protobuf::FieldDescriptor* field);

}  // namespace corps
