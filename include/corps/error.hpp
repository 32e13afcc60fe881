// Errors: what went wrong, at which stage of a record's life, and where.
//
// corps reports failures in two ways, one per kind of failure (see result.hpp):
// construction, configuration and misuse throw corps::Exception; per-record
// outcomes (delivery, decode, commit) are values carrying a corps::Error.
// Both hold the same Error, so a caller prints and inspects them alike.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace corps {

/// The step of a record's life (or of a client's set-up) that failed.
enum class Stage {
  config,       ///< options, YAML, librdkafka properties
  bind,         ///< binding a channel to a type in the registry
  encode,       ///< stamping, serializing or compressing on produce
  produce,      ///< handing a record to the Kafka client
  delivery,     ///< the broker's answer for one record
  connect,      ///< reaching the brokers
  subscribe,    ///< joining channels on consume
  consume,      ///< fetching records from the brokers
  headers,      ///< reading a record's headers
  decompress,   ///< inflating a record value
  parse,        ///< parsing the bound protobuf type
  type,         ///< the record is not of its channel's type
  metadata,     ///< the metadata sub-message is missing or unusable
  handler,      ///< user code that handled a record
  commit,       ///< committing consumed offsets
  admin,        ///< topic administration
  dead_letter,  ///< writing a record to the dead-letter channel
  replay,       ///< sending dead letters back to their channel
};

/// What went wrong, independent of the stage.
enum class Errc {
  invalid_argument,    ///< a bad option or call argument
  unknown_channel,     ///< the channel is not bound in the registry
  type_mismatch,       ///< a message of one type met a channel of another
  no_metadata_field,   ///< a type has no metadata sub-message field
  missing_metadata,    ///< a record's metadata sub-message is absent
  empty_value,         ///< a record with an empty or null value
  corrupt_data,        ///< the bytes are not what the format allows
  truncated_data,      ///< the bytes end before the format does
  trailing_data,       ///< bytes follow a complete stream
  too_large,           ///< a size limit would be exceeded
  parse_failed,        ///< protobuf rejected the bytes
  broker_unreachable,  ///< no broker answered in time
  kafka_error,         ///< the Kafka client or broker reported an error
  timed_out,           ///< an operation did not finish in time
  queue_full,          ///< the client's send queue is full
  handler_failed,      ///< user code threw
  closed,              ///< the client was closed or stopped
  unsupported,         ///< the broker or build cannot do this
  records_missing,     ///< offsets were skipped: the broker no longer has them
  fatal,               ///< the client can no longer work; make a new one
};

/// What the caller can do about a failure.
enum class Severity {
  retriable,  ///< the same operation may succeed if tried again
  permanent,  ///< trying the same thing again fails the same way
  fatal,      ///< the client is unusable (e.g. a fenced idempotent producer)
};

/// The coordinates of one Kafka record.
struct RecordLocation {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;

  /// `topic[partition]@offset`, the form every corps message uses.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const RecordLocation&, const RecordLocation&) = default;
};

/// A failure: its kind, its stage, a message saying what was expected and
/// what was found, and, for record failures, the record's coordinates.
class Error {
 public:
  Error(Errc code, Stage stage, std::string message,
        std::optional<RecordLocation> location = std::nullopt, int kafka_code = 0);

  /// What went wrong.
  [[nodiscard]] Errc code() const noexcept { return code_; }
  /// Where in a record's life it went wrong.
  [[nodiscard]] Stage stage() const noexcept { return stage_; }
  /// The detail, without stage or location.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// The record concerned, if the failure concerns one record.
  [[nodiscard]] const std::optional<RecordLocation>& location() const noexcept {
    return location_;
  }
  /// librdkafka's `rd_kafka_resp_err_t` value, or 0 when Kafka is not involved.
  [[nodiscard]] int kafka_code() const noexcept { return kafka_code_; }
  /// Whether retrying may help, and whether the client survived. Follows
  /// the code, or for Kafka failures librdkafka's own classification.
  [[nodiscard]] Severity severity() const noexcept { return severity_; }
  /// True when retrying the same operation may succeed.
  [[nodiscard]] bool retriable() const noexcept { return severity_ == Severity::retriable; }
  /// Overrides the severity the code implies (Kafka clients know better).
  Error& set_severity(Severity severity) noexcept {
    severity_ = severity;
    return *this;
  }

  /// `stage error (code) at topic[p]@o: message`.
  [[nodiscard]] std::string to_string() const;

 private:
  Errc code_;
  Stage stage_;
  std::string message_;
  std::optional<RecordLocation> location_;
  int kafka_code_;
  Severity severity_;
};

/// The exception corps throws for construction, configuration and misuse.
class Exception : public std::runtime_error {
 public:
  explicit Exception(Error error);
  /// The failure this exception carries.
  [[nodiscard]] const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// The lowercase name of a stage, e.g. "decompress".
[[nodiscard]] std::string_view to_string(Stage stage) noexcept;
/// The lowercase name of an error code, e.g. "trailing_data".
[[nodiscard]] std::string_view to_string(Errc code) noexcept;
/// The lowercase name of a severity, e.g. "retriable".
[[nodiscard]] std::string_view to_string(Severity severity) noexcept;

}  // namespace corps
