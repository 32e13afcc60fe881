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
  /// Raw librdkafka properties for the dead-letter producer.
  std::map<std::string, std::string> producer_properties;
};

/// `record` as a dead letter failed with `error` after `attempts` tries, by
/// `service` in `consumer_group`. Keeps the raw value as it was on the wire.
[[nodiscard]] proto::DeadLetter make_dead_letter(const Record& record, const Error& error,
                                                 int attempts, std::string_view consumer_group,
                                                 std::string_view service);

}  // namespace corps
