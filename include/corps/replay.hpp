// Replay: sends dead letters back to the channel they came from, byte for
// byte (key, headers and the still-compressed value), once whatever made
// them fail has been fixed.
//
// Replaying reads the dead-letter channel up to its end as of the start, so
// letters written meanwhile (a replayed record failing again) wait for the
// next replay. Each replayed record goes back to the partition it came from
// (when it goes back to its own channel) and carries a `corps-replayed-from`
// header naming the letter. Replaying the same letters twice sends them
// twice; the report says which were replayed, which were not (safe to
// replay again) and which are unconfirmed (they may have been).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corps/dead_letter.hpp"
#include "corps/result.hpp"

namespace corps {

/// The header a replayed record carries: "DeadLetters[0]@12".
inline constexpr std::string_view replayed_from_header = "corps-replayed-from";

/// What to replay, and where.
struct ReplayOptions {
  /// Bootstrap brokers. Required.
  std::string brokers;
  /// The dead-letter channel to read.
  std::string dead_letter_channel{corps::dead_letter_channel};
  /// Only letters whose record came from this channel; empty: all.
  std::string only_channel;
  /// Send every letter here instead of to its own channel; empty: its own.
  std::string to_channel;
  /// The first offset read in each dead-letter partition; unset: the oldest.
  std::optional<std::int64_t> from_offset;
  /// Stop after this many letters have been replayed.
  std::size_t max_letters = std::numeric_limits<std::size_t>::max();
  /// How long reading may take. Records sent by then are waited for (for up
  /// to as long again) so that each is counted for what became of it.
  std::chrono::milliseconds timeout{60'000};
  /// Raw librdkafka properties (security settings, say) for the reader and,
  /// but for the consumer-only ones, for the producer.
  std::map<std::string, std::string> properties;
};

/// What a replay did.
struct ReplayReport {
  std::size_t read = 0;      ///< letters read
  std::size_t replayed = 0;  ///< records sent back and acknowledged
  std::size_t skipped = 0;   ///< letters not matching only_channel
  /// Records sent back whose acknowledgement never came: they may have been
  /// replayed, and replaying them again may duplicate them.
  std::size_t unconfirmed = 0;
  /// True if the channel was read up to its end as of the start (or up to
  /// max_letters); false if the time ran out first.
  bool reached_end = false;
  /// Letters that could not be read or sent, the unconfirmed ones, and the
  /// time running out, each with its location where it has one.
  std::vector<Error> failures;
};

/// Replays the letters on `options.dead_letter_channel`. Returns an Error
/// (Stage::replay) if the channel cannot be read; per-letter failures, and
/// the time running out, are in the report.
[[nodiscard]] Result<ReplayReport> replay_dead_letters(const ReplayOptions& options);

}  // namespace corps
