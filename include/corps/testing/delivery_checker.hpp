// DeliveryChecker: a check in the spirit of Jepsen's queue workload. A test
// sends unique, increasing values, tells the checker every delivery report
// and every consumed record, injects faults meanwhile, and finally asks for
// a verdict:
//  - lost:       acknowledged, but never consumed;
//  - phantom:    consumed, but never sent;
//  - misplaced:  consumed at another partition or offset than acknowledged;
//  - reordered:  the log holds values out of send order, within a partition,
//                or, for values sent with a key, within the values of that
//                key (several producers share partitions; each keeps its
//                keys' order);
//  - duplicated: the same value at two offsets (a producer retry the broker
//                did not de-duplicate);
//  - redelivered: the same offset consumed twice (at-least-once consumers
//                do this after a crash or a rebalance).
// Which of the last two a scenario may show is the guarantee under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "corps/error.hpp"
#include "corps/producer.hpp"

namespace corps::testing {

/// What a scenario's guarantee allows beyond "nothing lost, nothing out of
/// order".
struct DeliveryGuarantee {
  /// The same value may sit at two offsets (no de-duplicating broker).
  bool allow_duplicated = false;
  /// The same offset may be consumed more than once (at-least-once).
  bool allow_redelivered = true;
};

/// The counts a check found, and examples of each violation.
struct DeliveryVerdict {
  std::size_t sent = 0;
  std::size_t acknowledged = 0;
  std::size_t failed = 0;           ///< reported not delivered
  std::size_t consumed = 0;         ///< consumed records, repeats included
  std::size_t unique_consumed = 0;  ///< distinct values consumed
  std::size_t lost = 0;
  std::size_t phantom = 0;
  std::size_t misplaced = 0;
  std::size_t reordered = 0;
  std::size_t duplicated = 0;
  std::size_t redelivered = 0;
  /// Failed reports whose value was consumed anyway (possibly persisted).
  std::size_t failed_but_stored = 0;
  /// Up to ten examples per kind of violation, for the failure message.
  std::vector<std::string> examples;
  /// True if nothing was lost, phantom, misplaced or reordered, and the
  /// duplicates are of the kinds `guarantee` allows.
  bool holds = false;

  /// A one-line summary: "sent 2000, acknowledged 2000, ... : holds".
  [[nodiscard]] std::string to_string() const;
};

/// Collects sends and receipts from any thread; check() judges them.
class DeliveryChecker {
 public:
  /// Records that `value` was sent and how its delivery was reported.
  void sent(std::int64_t value, const DeliveryReport& report);
  /// As above, for a value sent with `key`: its order is judged among the
  /// values of its key (sent in increasing order), not its whole partition.
  void sent(std::int64_t value, const DeliveryReport& report, std::string key);
  /// Records that `value` was consumed at `where`.
  void consumed(std::int64_t value, const RecordLocation& where);
  /// Judges everything recorded so far.
  [[nodiscard]] DeliveryVerdict check(DeliveryGuarantee guarantee) const;

 private:
  struct Receipt {
    std::int64_t value;
    RecordLocation location;
  };
  mutable std::mutex mutex_;
  std::map<std::int64_t, DeliveryReport> reports_;
  std::map<std::int64_t, std::string> keys_;  // of values sent with one
  std::vector<Receipt> receipts_;
};

}  // namespace corps::testing
