// UTF-8 where bytes from the wire meet text: Kafka keys, header names and
// values are arbitrary bytes, while JSON text and protobuf's proto3 `string`
// fields must be UTF-8 (RFC 8259, and protobuf refuses to parse anything
// else). Used by dead letters and by the corps tool's printers.
#pragma once

#include <string>
#include <string_view>

namespace corps::detail {

/// True if `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
/// surrogates, nothing above U+10FFFF).
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

/// `text` with every byte that is not part of well-formed UTF-8 replaced by
/// U+FFFD, the replacement character; well-formed text comes back unchanged.
[[nodiscard]] std::string to_valid_utf8(std::string_view text);

}  // namespace corps::detail
