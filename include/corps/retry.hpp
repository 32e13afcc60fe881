// RetryPolicy: how often, and how patiently, a consumer tries a handler
// that fails before it gives the record up to the dead-letter channel.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace corps {

/// Attempts and exponential backoff for a failing handler.
struct RetryPolicy {
  /// Handler calls per record, the first included; at least 1.
  int max_attempts = 3;
  /// The wait before the second attempt.
  std::chrono::milliseconds initial_backoff{100};
  /// Each wait is this many times the one before...
  double multiplier = 2.0;
  /// ...up to this.
  std::chrono::milliseconds max_backoff{5'000};

  /// The wait before attempt `attempt` (2 for the first retry).
  [[nodiscard]] std::chrono::milliseconds backoff_before(int attempt) const noexcept {
    double wait = static_cast<double>(initial_backoff.count());
    for (int i = 2; i < attempt && wait < static_cast<double>(max_backoff.count()); ++i) {
      wait *= multiplier;
    }
    return std::min(max_backoff, std::chrono::milliseconds(static_cast<std::int64_t>(wait)));
  }
};

}  // namespace corps
