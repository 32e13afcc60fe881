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
//
// At-least-once has a bound, which the checker measures when told who read
// what when, and which commits each reader saw: a record may be read again
// only if no commit past it had been made (one seen before it was read
// again is a violation, redelivered_past_commit), and all the redeliveries
// together are counted against what was left uncommitted (redelivery_bound):
// a record read again counts there if the reader that read it before had
// seen no commit past it by then, which is what a member that died, lost
// its partitions or got them back had not committed yet. A commit it sees
// later (the group's, made by the member that took over) does not count.
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
  /// Redeliveries are held to the bound the commits set (see the top of
  /// this file); needs consumed() with a reader and a time, and
  /// committed().
  bool bound_redelivered = false;
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
  /// Records read again although a commit past them had been seen first.
  std::size_t redelivered_past_commit = 0;
  /// The most redeliveries the commits allow: the records each reader
  /// read past the last commit it saw, summed.
  std::size_t redelivery_bound = 0;
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
  /// As above, by `reader` (one consumer process, say) at `at_ms`, on a
  /// clock every reader shares (steady_clock on one machine), for the
  /// redelivery bound.
  void consumed(std::int64_t value, const RecordLocation& where, std::string reader,
                std::int64_t at_ms);
  /// Records that `reader` saw its group's committed offset of `topic`
  /// [`partition`] at `offset` (the next record to read) at `at_ms`.
  void committed(const std::string& topic, std::int32_t partition, std::int64_t offset,
                 std::string reader, std::int64_t at_ms);
  /// Judges everything recorded so far.
  [[nodiscard]] DeliveryVerdict check(DeliveryGuarantee guarantee) const;

 private:
  struct Receipt {
    std::int64_t value;
    RecordLocation location;
    std::string reader;
    std::int64_t at_ms = 0;
  };
  struct Commit {
    std::string topic;
    std::int32_t partition;
    std::int64_t offset;
    std::string reader;
    std::int64_t at_ms;
  };
  void check_redelivery_bound(DeliveryVerdict& verdict,
                              std::map<std::string, int>& per_kind) const;

  mutable std::mutex mutex_;
  std::map<std::int64_t, DeliveryReport> reports_;
  std::map<std::int64_t, std::string> keys_;  // of values sent with one
  std::vector<Receipt> receipts_;
  std::vector<Commit> commits_;
};

}  // namespace corps::testing
