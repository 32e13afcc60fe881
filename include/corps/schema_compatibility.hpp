// Whether one version of a protobuf schema may follow another: the rules a
// schema registry applies when a subject gets a new version, and the ones
// corps's embedded registry uses.
//
// The rules are Confluent's (its protobuf provider's diff): two versions
// are compared element by element, each difference is of one kind, and a
// kind is compatible or not. Compatible: a message added or moved; an enum
// added or removed; an enum value added, renamed or removed; a field added,
// removed or renamed; a string or bytes field's label changed; a oneof
// added or removed; a field added to a oneof. Not compatible:
//  - the package changed;
//  - a message removed;
//  - a field's kind changed (scalar, message, map);
//  - a scalar's wire family changed (int32/int64/uint32/uint64/bool/enum;
//    sint32/sint64; string/bytes; fixed32/sfixed32; fixed64/sfixed64;
//    float; double), e.g. sint32 -> int32, which zigzag makes another number;
//  - a message field's type renamed, or an imported type changed
//    incompatibly;
//  - a numeric field's label changed (optional -> repeated or required);
//  - a required field added or removed (proto2);
//  - a field removed from a oneof;
//  - two or more existing fields moved into one oneof, or one moved into a
//    oneof with fields it had already.
// BACKWARD compares the older version to the newer; FORWARD the newer to
// the older (so, as in Confluent's registry, it refuses a new message:
// seen from the new version, the old one lacks it); FULL both.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>
#include <vector>

#include "corps/schema_registry.hpp"

namespace corps {

/// The kinds of difference between two versions, named as Confluent names
/// them (to_string gives FIELD_NUMERIC_LABEL_CHANGED and so on).
enum class SchemaChange {
  package_changed,
  message_added,
  message_removed,
  message_moved,
  enum_added,
  enum_removed,
  enum_const_added,
  enum_const_changed,
  enum_const_removed,
  field_added,
  field_removed,
  field_name_changed,
  field_kind_changed,
  field_scalar_kind_changed,
  field_named_type_changed,
  field_numeric_label_changed,
  field_string_or_bytes_label_changed,
  required_field_added,
  required_field_removed,
  oneof_added,
  oneof_removed,
  oneof_field_added,
  oneof_field_removed,
  multiple_fields_moved_to_oneof,
  field_moved_to_existing_oneof,
};

[[nodiscard]] std::string_view to_string(SchemaChange change) noexcept;
/// Whether a reader of one version reads what the other writes despite it.
[[nodiscard]] bool is_compatible(SchemaChange change) noexcept;

/// One difference: its kind, where (e.g. "evolve.M field 2 'cents'"), and
/// what changed.
struct SchemaDifference {
  SchemaChange change;
  std::string where;
  std::string detail;
  /// "FIELD_NUMERIC_LABEL_CHANGED at evolve.M field 2 'cents': ..."
  [[nodiscard]] std::string to_string() const;
};

/// Every difference from `original` to `update`, compatible or not.
[[nodiscard]] std::vector<SchemaDifference> schema_differences(
    const google::protobuf::FileDescriptor& original,
    const google::protobuf::FileDescriptor& update);

/// What stops `newer` following `older` under `level` (the non-transitive
/// meaning: against this one older version), one line each; empty if
/// nothing does. BACKWARD: `newer` must read what `older` wrote; FORWARD:
/// `older` must read what `newer` writes; FULL: both; NONE: nothing.
[[nodiscard]] std::vector<std::string> compatibility_problems(
    const google::protobuf::FileDescriptor& older, const google::protobuf::FileDescriptor& newer,
    CompatibilityLevel level);

}  // namespace corps
