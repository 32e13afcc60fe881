// MessageLoader: the consume side of the codec pipeline.
//
//   Kafka record value ──bounded inflate──► parse the channel's type ──► typed message
//                                                 (offset, partition written into metadata)
//
// Every failure is an Error naming its stage (decompress, parse, type,
// metadata) and the record's topic, partition and offset; nothing throws.
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corps/codec.hpp"
#include "corps/confluent_framing.hpp"
#include "corps/headers.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps {

class SchemaRegistryClient;

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
  /// How a Confluent-framed value's message indexes are read when the
  /// schema cannot decide. Both encodings are tried; where they read
  /// differently, the reading that names the record's type (the one its
  /// header or its channel names) wins, then one that names a message of
  /// the schema at all (the registry's schema for its id, or the file of the
  /// channel's type). Only where both are equal does this choose, and a
  /// record that then fails says what the other reading would have named.
  /// Plain for writers such as confluent-kafka for Python before 1.8.
  MessageIndexEncoding message_index_encoding = MessageIndexEncoding::zigzag;
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

/// What load() learned about a record besides its message, for callers
/// that build on it (the consumer keeps them with the record).
struct LoadFacts {
  /// The binding of the message's type on the record's channel; nullptr
  /// on a channel that is not bound (a type from a schema registry), or if
  /// the load failed.
  const ChannelBinding* binding = nullptr;
  /// How many serialized bytes the message was parsed from.
  std::size_t parsed_bytes = 0;
};

/// Turns record values into typed messages of their channel's type.
/// Keeps its inflate state and buffer between records.
/// Not thread-safe: one loader per thread.
class MessageLoader {
 public:
  /// Copies `registry` (copies share bindings). With `schemas`, a
  /// Confluent-framed record's schema id says its type: on a channel that
  /// is not bound, the record decodes as that type, made from the
  /// registry's schema at run time (a DynamicMessage); on a bound one, the
  /// type must be one the channel carries, and picks it among several.
  /// Throws corps::Exception (Stage::config) for bad options.
  explicit MessageLoader(ChannelRegistry registry, LoaderOptions options = {},
                         std::shared_ptr<SchemaRegistryClient> schemas = nullptr);
  ~MessageLoader();
  MessageLoader(MessageLoader&&) noexcept;
  MessageLoader& operator=(MessageLoader&&) noexcept;

  /// Decodes `record` into a new message of its channel's type (of its
  /// channel's types, the one its `corps-type` header or schema id names)
  /// and writes the record's offset and partition into its metadata.
  [[nodiscard]] Result<std::unique_ptr<google::protobuf::Message>> load(const RawRecord& record);
  /// The same, also telling `facts`.
  [[nodiscard]] Result<std::unique_ptr<google::protobuf::Message>> load(const RawRecord& record,
                                                                        LoadFacts& facts);

  /// What keeps `message`'s type alive if it was made from a schema
  /// registry's schema (nullptr otherwise): a record holding the message
  /// beyond this loader's life holds this too.
  [[nodiscard]] std::shared_ptr<const void> type_owner(
      const google::protobuf::Message& message) const;

  /// Until changed, a look-up that load() makes in the schema registry (a
  /// record's schema id not seen before) asks it only until `deadline`
  /// (SchemaRegistryClient::message_by_id): nullopt, for as long as the
  /// registry client's own timeouts and retries take. A consumer sets it
  /// to the end of its poll.
  void set_lookup_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    lookup_deadline_ = deadline;
  }

  /// The registry this loader resolves channels with.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept { return registry_; }
  /// The limits in force.
  [[nodiscard]] const LoaderOptions& options() const noexcept { return options_; }

 private:
  // Why `headers` are too many or too large to accept, or nullopt.
  [[nodiscard]] std::optional<std::string> check_headers(const Headers& headers) const;

  // What parsing a value of `prototype`'s type may cost, made once per type.
  const detail::ParseCost& parse_cost(const google::protobuf::Message& prototype);

  // Takes a Confluent-framed value apart, choosing between its two readings
  // (see LoaderOptions::message_index_encoding). With a registry, sets
  // `prototype` to the type the chosen reading names; sets `note` to what a
  // failure should add when the configured encoding chose.
  Result<ConfluentFrame> read_frame(std::string_view value, std::string_view topic,
                                    const ChannelBinding* binding, bool type_named,
                                    const RecordLocation& where,
                                    std::shared_ptr<const google::protobuf::Message>& prototype,
                                    std::string& note);

  // The type the schema registry gives a Confluent-framed record.
  Result<std::shared_ptr<const google::protobuf::Message>> registry_type(
      std::int32_t schema_id, const std::vector<int>& indexes, const RecordLocation& where);

  ChannelRegistry registry_;
  LoaderOptions options_;
  std::optional<std::chrono::steady_clock::time_point> lookup_deadline_;
  PayloadDecompressor decompressor_;
  // By prototype: a prototype lives as long as its binding or registry
  // type, and asking a message for its descriptor costs a std::call_once.
  std::map<const google::protobuf::Message*, std::unique_ptr<detail::ParseCost>> parse_costs_;
  std::shared_ptr<SchemaRegistryClient> schemas_;
  // The registry's types this loader has made messages of.
  std::map<const google::protobuf::Descriptor*, std::shared_ptr<const google::protobuf::Message>>
      registry_types_;
};

}  // namespace corps
