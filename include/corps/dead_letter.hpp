// Dead letters: a record that could not be decoded or handled, wrapped whole
// (coordinates, key, headers, raw value) with the reason, so it can travel on
// a dead-letter channel instead of being skipped.
#pragma once

#include <string_view>

#include "corps/dead_letter.pb.h"
#include "corps/error.hpp"
#include "corps/record.hpp"

namespace corps {

/// The conventional name of the dead-letter channel.
inline constexpr std::string_view dead_letter_channel = "DeadLetters";

/// `record` as a dead letter failed with `error` after `attempts` tries, by
/// `service` in `consumer_group`. Keeps the raw value as it was on the wire.
[[nodiscard]] proto::DeadLetter make_dead_letter(const Record& record, const Error& error,
                                                 int attempts, std::string_view consumer_group,
                                                 std::string_view service);

}  // namespace corps
