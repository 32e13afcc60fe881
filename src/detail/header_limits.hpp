// The limits on a record's headers (LoaderOptions::max_headers and
// max_header_bytes), checked from counts alone: the consumer checks them
// before it copies a single header, and MessageLoader for records handed to
// it directly.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "corps/message_loader.hpp"

namespace corps::detail {

/// Why `count` headers of `bytes` bytes (names and values) are more than
/// `limits` accept, or nullopt if they are not.
inline std::optional<std::string> header_limit_breach(std::size_t count, std::size_t bytes,
                                                      const LoaderOptions& limits) {
  if (count > limits.max_headers) {
    return std::to_string(count) + " headers; at most " + std::to_string(limits.max_headers) +
           " are accepted (LoaderOptions::max_headers)";
  }
  if (bytes > limits.max_header_bytes) {
    return std::to_string(bytes) + " bytes of headers; at most " +
           std::to_string(limits.max_header_bytes) +
           " are accepted (LoaderOptions::max_header_bytes)";
  }
  return std::nullopt;
}

}  // namespace corps::detail
