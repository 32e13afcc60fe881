// The soak's history: every member's journal read back, and judged whole by
// corps::testing::DeliveryChecker (Jepsen's queue workload): every
// acknowledged value consumed at least once, nothing consumed that was not
// sent, each key's values in the order they were sent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "corps/producer.hpp"
#include "corps/testing/delivery_checker.hpp"

namespace corps::soak {

class History {
 public:
  /// Reads the journals of every incarnation of every member.
  static History read(const std::vector<std::string>& producer_journals,
                      const std::vector<std::string>& consumer_journals, const std::string& topic);

  /// Acknowledged values no consumer has journaled yet.
  [[nodiscard]] std::size_t acknowledged_unconsumed() const;
  /// Judges the whole history. On a real Kafka (`real_kafka`), whose
  /// idempotent producer de-duplicates, a value at two offsets is a
  /// violation; everywhere, redeliveries are held to what the group had
  /// not committed (DeliveryGuarantee::bound_redelivered).
  [[nodiscard]] testing::DeliveryVerdict judge(bool real_kafka) const;

  /// Values whose producer was killed before it heard of them: they may
  /// or may not be on the log, and either is right.
  [[nodiscard]] std::size_t unknown() const { return unknown_; }
  /// Ranges consumers were told the broker deleted before they read them,
  /// and records they could not decode: neither may happen in a soak.
  [[nodiscard]] const std::vector<std::string>& missing() const { return missing_; }
  [[nodiscard]] const std::vector<std::string>& bad() const { return bad_; }

 private:
  struct Sent {
    std::string key;
    std::optional<DeliveryReport> outcome;
  };
  std::string topic_;
  std::map<std::int64_t, Sent> sent_;
  struct Consumed {
    std::int64_t value;
    RecordLocation where;
    std::string reader;  // the journal: one member's incarnation
    std::int64_t at_ms;
  };
  struct Committed {
    std::int32_t partition;
    std::int64_t offset;
    std::string reader;
    std::int64_t at_ms;
  };
  std::vector<Consumed> consumed_;
  std::vector<Committed> committed_;
  std::vector<std::string> missing_;
  std::vector<std::string> bad_;
  std::size_t unknown_ = 0;
};

}  // namespace corps::soak
