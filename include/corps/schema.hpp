// Schemas at run time: protobuf types that were never compiled into the
// program, loaded from .proto files or descriptor sets
// (`protoc --descriptor_set_out`), for tools that decode any topic.
//
// Files may import corps's own schemas ("corps/metadata.proto") and
// protobuf's well-known types without shipping them: those come from the
// types compiled into corps.
#pragma once

#include <google/protobuf/descriptor.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace corps {

/// Collects .proto files and descriptor sets, then builds one descriptor pool
/// from them. Not thread-safe; the built pool is immutable and shareable.
class SchemaSet {
 public:
  SchemaSet();
  ~SchemaSet();
  SchemaSet(SchemaSet&&) noexcept;
  SchemaSet& operator=(SchemaSet&&) noexcept;

  /// Adds a directory that imports are resolved against (protoc's -I).
  void add_include_dir(const std::filesystem::path& dir);
  /// Adds a .proto file, as protoc takes its inputs: a path on disk under an
  /// include directory is named relative to it (as imports name it); any
  /// other path on disk makes its directory an include directory; a path
  /// that is not on disk is looked for in the include directories
  /// (`-I proto shop/order.proto` from outside proto/). Add the include
  /// directories first.
  void add_proto_file(const std::filesystem::path& file);
  /// Adds every file of a FileDescriptorSet. Throws corps::Exception
  /// (Stage::config) if the file cannot be read or parsed.
  void add_descriptor_set(const std::filesystem::path& file);

  /// A pool holding every added file and its imports. Call once, after the
  /// adds. Throws corps::Exception (Stage::config) listing every error
  /// (file, line, column, message).
  [[nodiscard]] std::shared_ptr<const google::protobuf::DescriptorPool> build();

  /// The message types defined in the added files (not their imports), by
  /// full name, after build().
  [[nodiscard]] std::vector<std::string> message_types() const;

 private:
  struct Impl;
  // Shared with the built pool, which reads from its databases lazily.
  std::shared_ptr<Impl> impl_;
};

}  // namespace corps
