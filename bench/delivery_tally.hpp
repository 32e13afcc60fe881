// Delivery reports counted the same way for both clients: how many records
// were acknowledged, the first failure, and where each partition ends.
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace corps::bench {

/// Counts delivery reports. Thread-safe: reports arrive on the client's
/// delivery thread.
class DeliveryTally {
 public:
  /// A record landed at `offset` of `partition`.
  void delivered(std::int32_t partition, std::int64_t offset) {
    std::lock_guard lock(mutex_);
    const auto index = static_cast<std::size_t>(partition);
    if (index >= ends_.size()) ends_.resize(index + 1, 0);
    if (offset + 1 > ends_[index]) ends_[index] = offset + 1;
  }

  /// A record was not delivered, for `reason`.
  void failed(std::string reason) {
    std::lock_guard lock(mutex_);
    if (failures_++ == 0) first_failure_ = std::move(reason);
  }

  /// Throws std::runtime_error if any record was not delivered: a benchmark
  /// that loses records measures nothing.
  void check() const {
    std::lock_guard lock(mutex_);
    if (failures_ == 0) return;
    throw std::runtime_error(std::to_string(failures_) +
                             " record(s) not delivered; the first: " + first_failure_);
  }

  /// The offset after the last record delivered to `partition`, or 0.
  [[nodiscard]] std::int64_t end_offset(std::int32_t partition) const {
    std::lock_guard lock(mutex_);
    const auto index = static_cast<std::size_t>(partition);
    return index < ends_.size() ? ends_[index] : 0;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> ends_;
  std::size_t failures_ = 0;
  std::string first_failure_;
};

}  // namespace corps::bench
