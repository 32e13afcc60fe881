// Limits on .proto text, checked before protobuf's parser reads it.
// protobuf's compiler::Parser recurses once per nested block and has no
// limit of its own: text nested thousands of levels deep exhausts the stack
// (a schema nested 20,000 deep, posted to the embedded registry, killed it
// with a segmentation fault).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace corps::detail {

/// The deepest nesting of blocks taken: protobuf's own limit for binary
/// messages and text format (100).
inline constexpr int max_proto_nesting = 100;
/// The largest .proto text taken.
inline constexpr std::size_t max_proto_text_bytes = std::size_t{4} << 20;

/// Why `text` is not to be parsed (too large, or nested too deep, with the
/// line where the limit was passed), or nullopt. Comments and string
/// literals are skipped, as the parser skips them.
[[nodiscard]] std::optional<std::string> proto_text_refusal(std::string_view text);

}  // namespace corps::detail
