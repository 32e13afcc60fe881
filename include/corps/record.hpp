// Record: one consumed Kafka record with its decoded, typed message.
//
// A record is either decoded (ok(): the message of its channel's type, with
// offset and partition written into the metadata) or failed (error(): a typed
// Error naming the stage and the record's coordinates). Either way the raw
// key, value and headers stay available, so a bad record can be logged,
// inspected or routed elsewhere; nothing about it is lost.
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/metadata.pb.h"
#include "corps/result.hpp"
#include "corps/trace_context.hpp"

namespace corps {

namespace detail {
struct RecordAccess;
}  // namespace detail

/// How a record's value is laid out on the wire.
enum class Framing {
  /// A zlib stream with no corps-codec header: MessageCorps's format, and
  /// corps's default.
  messagecorps,
  /// The codec a corps-codec header names (none, zstd, lz4, or zlib).
  corps_codec,
  /// A schema registry's: byte 0, the schema id, the message indexes, the
  /// message (corps/confluent_framing.hpp).
  confluent,
};

/// One consumed record. Move-only. It owns copies of its key, value and
/// headers: nothing in it points into the Kafka client's memory, so it may
/// be kept as long as needed, also after its Consumer is gone.
/// Records are made by a Consumer (and, for tests without a broker, by
/// corps::testing::make_record).
class Record {
 public:
  Record(Record&&) noexcept = default;
  /// Replaces the message before its type: a dynamic type must outlive
  /// its messages.
  Record& operator=(Record&& other) noexcept;

  /// The channel (topic) the record came from.
  [[nodiscard]] const std::string& topic() const noexcept { return location_.topic; }
  /// The partition the record came from.
  [[nodiscard]] std::int32_t partition() const noexcept { return location_.partition; }
  /// The record's offset in its partition.
  [[nodiscard]] std::int64_t offset() const noexcept { return location_.offset; }
  /// topic, partition and offset together.
  [[nodiscard]] const RecordLocation& location() const noexcept { return location_; }
  /// The key, if the record has one (MessageCorps records have none).
  [[nodiscard]] std::optional<std::string_view> key() const noexcept {
    return key_ ? std::optional<std::string_view>(*key_) : std::nullopt;
  }
  /// The raw value as on the wire (compressed), or nullopt for a null value.
  [[nodiscard]] std::optional<std::string_view> value() const noexcept {
    return value_ ? std::optional<std::string_view>(*value_) : std::nullopt;
  }
  /// The record's headers, in wire order.
  [[nodiscard]] const Headers& headers() const noexcept { return headers_; }
  /// The record's Kafka timestamp in Unix milliseconds, or -1.
  [[nodiscard]] std::int64_t timestamp_ms() const noexcept { return timestamp_ms_; }

  /// The consumer's clock, for latency by stage. When the consumer took the
  /// record from the Kafka client (its fetch had arrived by then), and
  /// when it had finished decoding it, on the application's thread or a
  /// decode thread (ConsumerOptions::decode_threads); what lies between
  /// decoded_at() and the record's hand-out is its wait behind the records
  /// before it. Both are the clock's epoch for a record no consumer made.
  [[nodiscard]] std::chrono::steady_clock::time_point fetched_at() const noexcept {
    return fetched_at_;
  }
  [[nodiscard]] std::chrono::steady_clock::time_point decoded_at() const noexcept {
    return decoded_at_;
  }

  /// How the value is laid out: told from its headers and first byte, as
  /// the decoder told it. A null value counts as MessageCorps's.
  [[nodiscard]] Framing framing() const noexcept;
  /// The schema id of a Confluent-framed value, or nullopt.
  [[nodiscard]] std::optional<std::int32_t> schema_id() const noexcept;

  /// True if the value decoded into the channel's type.
  [[nodiscard]] bool ok() const noexcept { return decoded_.ok(); }
  /// Why the record did not decode; only valid when !ok().
  [[nodiscard]] const Error& error() const { return decoded_.error(); }

  /// The decoded message; throws corps::Exception carrying error() if !ok().
  [[nodiscard]] const google::protobuf::Message& message() const { return **decoded_; }
  /// The decoded message, for callers that pass it on.
  [[nodiscard]] google::protobuf::Message& mutable_message() { return **decoded_; }

  /// The message as a T, or nullptr if it did not decode or is not a T.
  template <class T>
  [[nodiscard]] const T* get_if() const noexcept {
    return ok() ? dynamic_cast<const T*>(decoded_->get()) : nullptr;
  }
  /// The message as a T; throws corps::Exception (type_mismatch, or the
  /// decode error) otherwise.
  template <class T>
  [[nodiscard]] const T& as() const {
    if (const T* typed = get_if<T>()) return *typed;
    throw_not(T::descriptor()->full_name());
  }

  /// The message's metadata (with this record's offset and partition): from
  /// its metadata field, or, for a type without one, from the record's
  /// `corps-metadata` header. Throws corps::Exception carrying error() if
  /// !ok(); no_metadata_field if there is neither field nor header;
  /// corrupt_data (Stage::metadata) if the header is not a MessageData.
  [[nodiscard]] proto::MessageData metadata() const;

  /// Where the record sits in a trace: from its `traceparent` header (and
  /// `corps-parent-span`) when it has a valid one; otherwise from its
  /// metadata's trace_id, with the span its uuid names. nullopt if it has
  /// neither (or did not decode and has no header).
  [[nodiscard]] std::optional<TraceContext> trace_context() const;

 private:
  friend struct detail::RecordAccess;

  /// `metadata_field` is the bound type's metadata field (nullptr if the
  /// channel is unknown).
  Record(RecordLocation location, std::optional<std::string> key, std::optional<std::string> value,
         Headers headers, std::int64_t timestamp_ms,
         Result<std::unique_ptr<google::protobuf::Message>> decoded,
         const google::protobuf::FieldDescriptor* metadata_field,
         std::shared_ptr<const void> type_owner);

  [[noreturn]] void throw_not(const std::string& wanted) const;

  RecordLocation location_;
  std::optional<std::string> key_;
  std::optional<std::string> value_;
  Headers headers_;
  std::int64_t timestamp_ms_;
  // A dynamic type's descriptors and factory; declared before decoded_ so
  // that the message goes first.
  std::shared_ptr<const void> type_owner_;
  Result<std::unique_ptr<google::protobuf::Message>> decoded_;
  const google::protobuf::FieldDescriptor* metadata_field_;
  std::chrono::steady_clock::time_point fetched_at_{};
  std::chrono::steady_clock::time_point decoded_at_{};
};

/// Calls `visitor` with the record's message as the one of Ts it is, for a
/// channel of several types (ChannelRegistry::bind_types). Returns false,
/// calling nothing, if the record did not decode or its message is none of
/// Ts. `visitor` is typically corps::overloaded{...}, one lambda per type.
template <class... Ts, class Visitor>
bool visit(const Record& record, Visitor&& visitor) {
  static_assert(sizeof...(Ts) > 0, "name the types to visit: corps::visit<A, B>(record, ...)");
  const auto try_one = [&]<class T>(const T* message) {
    if (message == nullptr) return false;
    std::forward<Visitor>(visitor)(*message);
    return true;
  };
  return (try_one(record.get_if<Ts>()) || ...);
}

/// Several lambdas as one overloaded callable, for corps::visit.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

}  // namespace corps
