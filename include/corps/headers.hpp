// Kafka record headers: ordered name/value pairs beside a record's value.
//
// MessageCorps neither writes nor reads headers, so corps may add its own
// (the `corps-type` header names the payload's full protobuf type). A record
// without headers is a MessageCorps record and decodes all the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corps {

/// One header. A null value (no bytes at all) differs from an empty one.
struct Header {
  std::string name;
  std::optional<std::string> value;
  friend bool operator==(const Header&, const Header&) = default;
};

/// A record's headers, in wire order; names may repeat.
using Headers = std::vector<Header>;

/// The name of the header in which corps records the payload's full type name.
inline constexpr std::string_view type_header = "corps-type";

/// The header that carries corps's metadata (a serialized
/// corps.proto.MessageData) for a type with no metadata field of its own,
/// on a channel in a schema registry's format.
inline constexpr std::string_view metadata_header = "corps-metadata";

/// The last header named `name`, or nullptr (Kafka's convention: last wins).
[[nodiscard]] const Header* find_header(const Headers& headers, std::string_view name) noexcept;

}  // namespace corps
