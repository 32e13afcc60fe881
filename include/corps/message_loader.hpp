// MessageLoader: the consume side of the codec pipeline.
//
//   Kafka record value ──bounded inflate──► parse the channel's type ──► typed message
//                                                 (offset, partition written into metadata)
//
// Every failure is an Error naming its stage (decompress, parse, type,
// metadata) and the record's topic, partition and offset; nothing throws.
#pragma once

#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corps/codec.hpp"
#include "corps/headers.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps {

namespace detail {
class ParseCost;
}

/// Limits applied when loading records.
struct LoaderOptions {
  /// The most bytes one record may inflate to. A decompression bomb stops
  /// here, having used at most this much memory. At most 2^31 - 1, the most
  /// protobuf parses.
  std::size_t max_decompressed_bytes = std::size_t{64} << 20;
  /// The most headers one record may carry; corps writes one.
  std::size_t max_headers = 1'000;
  /// The most bytes one record's header names and values may add up to.
  std::size_t max_header_bytes = std::size_t{1} << 20;
  /// The most memory parsing one record may take. A value built to expand
  /// (millions of empty sub-messages or unknown groups, two bytes each on
  /// the wire) is refused before it is parsed (Stage::parse, too_large);
  /// the estimate is from above, and is only made for values large enough
  /// to pass it at the type's worst ratio of memory to wire bytes.
  std::size_t max_parsed_bytes = std::size_t{256} << 20;
};

/// A record as it came off the wire. Views only: the caller keeps the bytes
/// alive during load().
struct RawRecord {
  std::string_view topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  /// The value's bytes, or nullptr for a null value (a tombstone).
  const char* value = nullptr;
  std::size_t value_size = 0;
  /// The record's headers, or nullptr if it has none.
  const Headers* headers = nullptr;
};

/// Turns record values into typed messages of their channel's type.
/// Keeps its inflate state and buffer between records.
/// Not thread-safe: one loader per thread.
class MessageLoader {
 public:
  /// Copies `registry` (copies share bindings). Throws corps::Exception
  /// (Stage::config) for bad options.
  explicit MessageLoader(ChannelRegistry registry, LoaderOptions options = {});
  ~MessageLoader();
  MessageLoader(MessageLoader&&) noexcept;
  MessageLoader& operator=(MessageLoader&&) noexcept;

  /// Decodes `record` into a new message of its channel's type and writes the
  /// record's offset and partition into its metadata.
  [[nodiscard]] Result<std::unique_ptr<google::protobuf::Message>> load(const RawRecord& record);

  /// The registry this loader resolves channels with.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept { return registry_; }
  /// The limits in force.
  [[nodiscard]] const LoaderOptions& options() const noexcept { return options_; }

 private:
  // Why `headers` are too many or too large to accept, or nullopt.
  [[nodiscard]] std::optional<std::string> check_headers(const Headers& headers) const;

  // What parsing a value of `binding`'s type may cost, made once per type.
  const detail::ParseCost& parse_cost(const ChannelBinding& binding);

  ChannelRegistry registry_;
  LoaderOptions options_;
  PayloadDecompressor decompressor_;
  std::string inflated_;
  std::map<const google::protobuf::Descriptor*, std::unique_ptr<detail::ParseCost>> parse_costs_;
};

}  // namespace corps
