// The one door to Record's constructor: records are assembled by the
// consumer (and the test kit's make_record), never by applications, so the
// constructor stays out of the public API.
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps::detail {

/// Whether a decoded message is known to be of its binding's type (made
/// from the binding's prototype), or must be asked.
enum class TypeOf { binding, ask };

struct RecordAccess {
  /// A record of `location` as fetched, with what decoding it gave.
  /// `binding` is the binding of the decoded message's type on its channel
  /// (nullptr if there is none: an unbound channel decoded by its schema
  /// id): it says where the metadata is, found from the type otherwise.
  /// `type_owner` keeps a dynamic type's descriptors alive as long as the
  /// record; the binding's are taken when it is null.
  static Record make(RecordLocation location, std::optional<std::string> key,
                     std::optional<std::string> value, Headers headers, std::int64_t timestamp_ms,
                     Result<std::unique_ptr<google::protobuf::Message>> decoded,
                     const ChannelBinding* binding,
                     std::shared_ptr<const void> type_owner = nullptr,
                     TypeOf type_of = TypeOf::ask) {
    const google::protobuf::FieldDescriptor* metadata_field = nullptr;
    if (binding != nullptr) {
      metadata_field = binding->metadata_field();
      if (!type_owner) type_owner = binding->type_owner();
    }
    if (decoded.ok() && (binding == nullptr || (type_of == TypeOf::ask &&
                                                binding->type() != (*decoded)->GetDescriptor()))) {
      metadata_field = metadata_field_of((*decoded)->GetDescriptor());
    }
    return Record(std::move(location), std::move(key), std::move(value), std::move(headers),
                  timestamp_ms, std::move(decoded), metadata_field, std::move(type_owner));
  }

  /// Stamps when `record` was fetched and decoded (Record::fetched_at).
  static void set_timing(Record& record, std::chrono::steady_clock::time_point fetched,
                         std::chrono::steady_clock::time_point decoded) {
    record.fetched_at_ = fetched;
    record.decoded_at_ = decoded;
  }

  // The metadata field of a type no binding vouched for; one with two has
  // none that can be trusted.
  static const google::protobuf::FieldDescriptor* metadata_field_of(
      const google::protobuf::Descriptor* type) {
    try {
      return find_metadata_field(type);
    } catch (const Exception&) {
      return nullptr;
    }
  }
};

}  // namespace corps::detail
