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
  framing,      ///< reading a value's framing (a schema registry's prefix)
  schema,       ///< a schema registry: registering, looking up, checking schemas
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
  registry_unreachable,  ///< no schema registry answered in time
  schema_not_found,      ///< the registry has no such subject, version or id
  invalid_schema,        ///< a schema that does not parse or build
  incompatible_schema,   ///< a schema its subject's compatibility rules refuse
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

/// Kafka's error codes, as corps reports them (Error::kafka_error()) and as
/// the embedded broker injects them (EmbeddedBroker::push_request_errors).
/// Positive values are the Kafka protocol's numbers, the ones a broker
/// answers with; negative values are conditions the client found itself
/// (librdkafka's numbering). A code not named here is still carried, as its
/// number: `kafka_error_name` names every one.
enum class KafkaError : std::int16_t {
  none = 0,
  // Found by the client.
  bad_message = -199,           ///< a response the client could not parse
  destroyed = -197,             ///< the client was closing
  failed = -196,                ///< a local failure without a better code
  transport = -195,             ///< a broker connection failed
  resolve = -193,               ///< a broker's host name did not resolve
  message_timed_out = -192,     ///< not delivered within the delivery timeout
  unknown_partition = -190,
  unknown_topic = -188,
  all_brokers_down = -187,
  invalid_argument = -186,
  timed_out = -185,
  queue_full = -184,            ///< the client's local queue was full
  ssl = -181,
  state = -172,                 ///< an operation the client's state forbids
  authentication = -169,
  purged_from_queue = -152,     ///< dropped before it was sent (closing)
  purged_in_flight = -151,      ///< dropped while in flight (closing)
  fatal = -150,                 ///< the client cannot go on (see its reason)
  // Answered by a broker.
  unknown_server_error = -1,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  leader_not_available = 5,
  not_leader_or_follower = 6,  ///< the partition's leader moved
  request_timed_out = 7,
  message_too_large = 10,
  offset_metadata_too_large = 12,
  network_exception = 13,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  illegal_generation = 22,
  unknown_member_id = 25,
  rebalance_in_progress = 27,
  topic_authorization_failed = 29,
  group_authorization_failed = 30,
  cluster_authorization_failed = 31,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_config = 40,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  kafka_storage_error = 56,
  non_empty_group = 68,  ///< a group with members cannot be deleted
  group_id_not_found = 69,
};

/// The code's name as librdkafka spells it (`REQUEST_TIMED_OUT`; codes the
/// client found itself start with an underscore: `_MSG_TIMED_OUT`).
[[nodiscard]] std::string kafka_error_name(KafkaError error);

/// A failure: its kind, its stage, a message saying what was expected and
/// what was found, and, for record failures, the record's coordinates.
class Error {
 public:
  Error(Errc code, Stage stage, std::string message,
        std::optional<RecordLocation> location = std::nullopt,
        KafkaError kafka_error = KafkaError::none);

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
  /// Kafka's code for the failure, or KafkaError::none when Kafka is not
  /// involved.
  [[nodiscard]] KafkaError kafka_error() const noexcept { return kafka_error_; }
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
  KafkaError kafka_error_;
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
