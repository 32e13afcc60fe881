// What parsing a value costs in memory, from above, before it is parsed.
//
// Inflated bytes are bounded (LoaderOptions::max_decompressed_bytes), but a
// parse can turn them into far more memory: two bytes on the wire (a tag and
// a zero length) become a whole message object in a repeated field, an empty
// string, or an unknown field protobuf keeps. 64 MiB of such pairs parse into
// gigabytes. ParseCost bounds the ratio of a type's memory to its wire bytes
// and, for a value whose size times that ratio could pass the budget, walks
// its wire format (no objects built) to estimate what the parse would take.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string_view>

namespace corps::detail {

class ParseCost {
 public:
  /// For values of `prototype`'s type; `prototype` must outlive this.
  explicit ParseCost(const google::protobuf::Message& prototype);

  /// At most how many bytes of memory one wire byte of this type can become.
  [[nodiscard]] std::size_t max_ratio() const noexcept { return max_ratio_; }

  /// Whether parsing `bytes` may take more than `budget` bytes of memory:
  /// nullopt if not, else the estimate (from above) that passed it, counted
  /// up to where it did. Malformed wire data stops the walk (the parse
  /// itself will refuse it).
  [[nodiscard]] std::optional<std::size_t> over_budget(std::string_view bytes,
                                                       std::size_t budget) const;

 private:
  struct Walk;
  // The memory of an empty message of `type`.
  std::size_t size_of(const google::protobuf::Descriptor* type) const;
  std::size_t ratio_of(const google::protobuf::Descriptor* type,
                       std::map<const google::protobuf::Descriptor*, bool>& seen) const;

  const google::protobuf::Message& prototype_;
  mutable std::map<const google::protobuf::Descriptor*, std::size_t> sizes_;
  std::size_t max_ratio_ = 0;
  std::size_t empty_size_ = 0;  // size_of the prototype's type
};

}  // namespace corps::detail
