// Whether one version of a protobuf schema may follow another: the rules a
// schema registry applies when a subject gets a new version, and the ones
// corps's embedded registry uses.
//
// What breaks a reader of protobuf (each named in the problem it reports):
//  - a field number that changes to a type the wire does not carry the same
//    way (int32 -> string; sint32 -> int32, which zigzag makes a different
//    number; one message type -> another). Changes protobuf reads the same
//    are allowed: int32/uint32/int64/uint64/bool/enum among themselves,
//    string <-> bytes, sint32 <-> sint64, fixed32 <-> sfixed32,
//    fixed64 <-> sfixed64;
//  - a message type that is gone (a record of it names it by index);
//  - an enum value that is gone (old records may hold it);
//  - a required field (proto2) the writer does not write.
// Adding fields, messages and enum values, and renaming fields (the wire
// knows numbers, not names), are allowed.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "corps/schema_registry.hpp"

namespace corps {

/// What stops `newer` following `older` under `level` (the non-transitive
/// meaning: against this one older version), one line each; empty if
/// nothing does. BACKWARD: `newer` must read what `older` wrote; FORWARD:
/// `older` must read what `newer` writes; FULL: both; NONE: nothing.
[[nodiscard]] std::vector<std::string> compatibility_problems(
    const google::protobuf::FileDescriptor& older, const google::protobuf::FileDescriptor& newer,
    CompatibilityLevel level);

}  // namespace corps
