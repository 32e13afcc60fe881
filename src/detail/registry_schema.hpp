// Protobuf schemas as a registry holds them, turned into descriptors: the
// .proto text (Java's serializers, corps) or a base64 serialized
// FileDescriptorProto (confluent-kafka for Python), with their references
// fetched and built first. Shared by the registry client (decoding records
// of types not compiled in) and the embedded registry (checking schemas).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "corps/schema_registry.hpp"

namespace corps::detail {

/// The file `schema` describes, named `file_name` unless the schema names
/// itself (a FileDescriptorProto does). Throws corps::Exception
/// (Stage::schema, invalid_schema) with the parser's line and column.
[[nodiscard]] google::protobuf::FileDescriptorProto parse_protobuf_schema(
    std::string_view schema, const std::string& file_name);

/// What identifies `schema` among others, as Confluent's registry compares
/// protobuf schemas: the file it describes, whatever its spacing, comments
/// or form (.proto text or a serialized descriptor), with its references.
/// A schema that does not parse is identified by its text.
[[nodiscard]] std::string canonical_protobuf_schema(const Schema& schema);

/// `file`'s .proto text, as a registry stores it.
[[nodiscard]] std::string proto_text(const google::protobuf::FileDescriptor& file);

/// Fetches the schema a reference names.
using FetchReference = std::function<Schema(const SchemaReference&)>;

/// Builds `schema` (named `file_name`) and, first, every file it imports: a
/// referenced import from `fetch`, any other (corps's own schemas,
/// protobuf's well-known types) from the types compiled into this program.
/// The file shares ownership of its pool. Throws corps::Exception
/// (Stage::schema, invalid_schema) naming what does not build.
[[nodiscard]] std::shared_ptr<const google::protobuf::FileDescriptor> build_protobuf_schema(
    const Schema& schema, const std::string& file_name, const FetchReference& fetch);

}  // namespace corps::detail
