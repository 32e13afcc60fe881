// Dead letters: a record that could not be decoded or handled, wrapped whole
// (coordinates, key, headers, raw value) with the reason, so it can travel on
// a dead-letter channel instead of being skipped.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "corps/dead_letter.pb.h"
#include "corps/error.hpp"
#include "corps/record.hpp"

namespace corps {

/// The conventional name of the dead-letter channel.
inline constexpr std::string_view dead_letter_channel = "DeadLetters";

/// Where and how a consumer writes the records it gives up on.
struct DeadLetterOptions {
  /// The channel dead letters go to (bound to corps.proto.DeadLetter by the
  /// consumer itself).
  std::string channel{dead_letter_channel};
  /// Who gives up, written into each letter; empty: LOG_TAG_SERVICE, else
  /// the consumer's client id.
  std::string service;
  /// How long one dead-letter write may take before the record is left
  /// unhandled (and fetched again) instead.
  std::chrono::milliseconds write_timeout{30'000};
  /// The largest letter written whole: a letter above it (serialized), or
  /// one the broker refuses as too large, is written truncated instead
  /// (truncate_dead_letter): coordinates, error, sizes and the value's
  /// SHA-256, without key, headers and value. Keep it at most the channel's
  /// max.message.bytes (Kafka's default is about 1 MB).
  std::size_t max_letter_bytes = 1'000'000;
  /// Raw librdkafka properties for the dead-letter producer, applied over
  /// the consumer's own ConsumerOptions::properties (which it inherits,
  /// security settings included, but for the consumer-only ones).
  std::map<std::string, std::string> producer_properties;
};

/// `record` as a dead letter failed with `error` after `attempts` tries, by
/// `service` in `consumer_group`. Keeps the raw value, key, headers and
/// timestamp as they were on the wire; every text field is valid UTF-8, so
/// the letter always parses again (a header name that is not keeps its
/// exact bytes in `name_bytes`).
[[nodiscard]] proto::DeadLetter make_dead_letter(const Record& record, const Error& error,
                                                 int attempts, std::string_view consumer_group,
                                                 std::string_view service);

/// `letter` without the record's key, headers and value, marked truncated
/// and saying their sizes and the value's SHA-256, and with its error message
/// cut to its first 16 KiB: what is written when the whole letter does not
/// fit the dead-letter channel.
[[nodiscard]] proto::DeadLetter truncate_dead_letter(proto::DeadLetter letter);

/// A kept header's exact name: `name_bytes` if set, else `name`.
[[nodiscard]] std::string_view header_name(const proto::DeadLetterHeader& header) noexcept;

}  // namespace corps
