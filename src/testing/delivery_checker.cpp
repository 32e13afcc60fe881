#include "corps/testing/delivery_checker.hpp"

#include <algorithm>
#include <climits>
#include <set>
#include <sstream>

namespace corps::testing {

namespace {

void example(DeliveryVerdict& verdict, std::map<std::string, int>& per_kind, const char* kind,
             const std::string& text) {
  if (per_kind[kind]++ < 10) verdict.examples.push_back(std::string(kind) + ": " + text);
}

}  // namespace

void DeliveryChecker::sent(std::int64_t value, const DeliveryReport& report) {
  std::lock_guard lock(mutex_);
  reports_.insert_or_assign(value, report);
}

void DeliveryChecker::sent(std::int64_t value, const DeliveryReport& report, std::string key) {
  std::lock_guard lock(mutex_);
  reports_.insert_or_assign(value, report);
  keys_.insert_or_assign(value, std::move(key));
}

void DeliveryChecker::consumed(std::int64_t value, const RecordLocation& where) {
  std::lock_guard lock(mutex_);
  receipts_.push_back({value, where, {}, 0});
}

void DeliveryChecker::consumed(std::int64_t value, const RecordLocation& where, std::string reader,
                               std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  receipts_.push_back({value, where, std::move(reader), at_ms});
}

void DeliveryChecker::committed(const std::string& topic, std::int32_t partition,
                                std::int64_t offset, std::string reader, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  commits_.push_back({topic, partition, offset, std::move(reader), at_ms});
}

// Each partition's reads and the commits seen, in time: a read of an offset
// read before is a violation if a commit past it had been seen already;
// the bound counts the reads again of records the reader before had seen
// no commit past by then.
void DeliveryChecker::check_redelivery_bound(DeliveryVerdict& verdict,
                                             std::map<std::string, int>& per_kind) const {
  using Partition = std::pair<std::string, std::int32_t>;
  std::map<Partition, std::vector<const Receipt*>> reads;
  for (const auto& receipt : receipts_) {
    reads[{receipt.location.topic, receipt.location.partition}].push_back(&receipt);
  }
  std::map<Partition, std::vector<const Commit*>> commits;
  for (const auto& commit : commits_) commits[{commit.topic, commit.partition}].push_back(&commit);
  for (auto& [partition, list] : reads) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Receipt* a, const Receipt* b) { return a->at_ms < b->at_ms; });
    auto& seen_commits = commits[partition];
    std::stable_sort(seen_commits.begin(), seen_commits.end(),
                     [](const Commit* a, const Commit* b) { return a->at_ms < b->at_ms; });
    std::size_t next_commit = 0;
    std::int64_t committed_before = -1;
    std::set<std::int64_t> read_once;
    // The commits each reader saw, in time.
    std::map<std::string, std::vector<const Commit*>> seen_by;
    for (const Commit* commit : seen_commits) seen_by[commit->reader].push_back(commit);
    const auto last_seen_before = [&](const std::string& reader, std::int64_t at_ms) {
      std::int64_t last = INT64_MIN;
      for (const Commit* commit : seen_by[reader]) {
        if (commit->at_ms >= at_ms) break;
        last = std::max(last, commit->offset);
      }
      return last;
    };
    // Each read again is within the bound if the reader before it had seen
    // no commit past the record by then: what that reader left uncommitted
    // when it died, lost the partition or got it back.
    std::map<std::int64_t, std::vector<const Receipt*>> reads_of;
    for (const Receipt* receipt : list) reads_of[receipt->location.offset].push_back(receipt);
    for (const auto& [offset, reads] : reads_of) {
      for (std::size_t again = 1; again < reads.size(); ++again) {
        if (offset >= last_seen_before(reads[again - 1]->reader, reads[again]->at_ms)) {
          ++verdict.redelivery_bound;
        }
      }
    }
    for (const Receipt* receipt : list) {
      while (next_commit < seen_commits.size() &&
             seen_commits[next_commit]->at_ms < receipt->at_ms) {
        committed_before = std::max(committed_before, seen_commits[next_commit]->offset);
        ++next_commit;
      }
      const std::int64_t offset = receipt->location.offset;
      if (!read_once.insert(offset).second && offset < committed_before) {
        ++verdict.redelivered_past_commit;
        example(verdict, per_kind, "redelivered past a commit",
                receipt->location.to_string() + " read again by " + receipt->reader +
                    " after a commit at " + std::to_string(committed_before) + " was seen");
      }
    }
  }
}

DeliveryVerdict DeliveryChecker::check(DeliveryGuarantee guarantee) const {
  std::lock_guard lock(mutex_);
  DeliveryVerdict verdict;
  std::map<std::string, int> per_kind;
  verdict.sent = reports_.size();
  verdict.consumed = receipts_.size();

  // The log as consumers saw it: partition -> offset -> value.
  std::map<std::pair<std::string, std::int32_t>, std::map<std::int64_t, std::int64_t>> log;
  std::map<std::int64_t, std::set<std::pair<std::int32_t, std::int64_t>>> offsets_of;
  std::set<std::tuple<std::string, std::int32_t, std::int64_t>> seen;
  for (const auto& receipt : receipts_) {
    const auto& where = receipt.location;
    if (!seen.insert({where.topic, where.partition, where.offset}).second) {
      ++verdict.redelivered;
      continue;
    }
    log[{where.topic, where.partition}][where.offset] = receipt.value;
    offsets_of[receipt.value].insert({where.partition, where.offset});
    if (reports_.count(receipt.value) == 0) {
      ++verdict.phantom;
      example(verdict, per_kind, "phantom",
              std::to_string(receipt.value) + " at " + where.to_string());
    }
  }
  verdict.unique_consumed = offsets_of.size();

  for (const auto& [value, report] : reports_) {
    const auto stored = offsets_of.find(value);
    if (!report.ok()) {
      ++verdict.failed;
      verdict.failed_but_stored += stored != offsets_of.end();
      continue;
    }
    ++verdict.acknowledged;
    if (stored == offsets_of.end()) {
      ++verdict.lost;
      // An idempotent producer's acknowledgement without an offset is
      // librdkafka's own inference ("implicitly acked": a later request of
      // the partition succeeded), not the broker's word.
      example(verdict, per_kind, "lost",
              std::to_string(value) + " acknowledged at " + report.location().to_string() +
                  (report.location().offset < 0 ? " (no offset: acknowledged implicitly)" : ""));
      continue;
    }
    if (stored->second.size() > 1) ++verdict.duplicated;
    // acks=0 reports no offset; otherwise the report must name where it is.
    if (report.location().offset >= 0 &&
        stored->second.count({report.location().partition, report.location().offset}) == 0) {
      ++verdict.misplaced;
      example(verdict, per_kind, "misplaced",
              std::to_string(value) + " acknowledged at " + report.location().to_string() +
                  " but found elsewhere");
    }
  }

  // Send order within each partition, and within a key where values have
  // one: the first copy of each value must come after the first copy of
  // every smaller value (later copies are retries, counted as duplicated).
  for (const auto& [partition, entries] : log) {
    std::set<std::int64_t> placed;
    std::map<std::string, std::int64_t> highest;  // by key ("" without one)
    for (const auto& [offset, value] : entries) {
      if (!placed.insert(value).second) continue;
      const auto key = keys_.find(value);
      auto [last, first] =
          highest.try_emplace(key != keys_.end() ? key->second : std::string(), INT64_MIN);
      if (value < last->second) {
        ++verdict.reordered;
        example(verdict, per_kind, "reordered",
                std::to_string(value) + " at " + partition.first + "[" +
                    std::to_string(partition.second) + "]@" + std::to_string(offset) + " after " +
                    std::to_string(last->second) +
                    (key != keys_.end() ? " (key " + key->second + ")" : std::string()));
      }
      last->second = std::max(last->second, value);
    }
  }

  if (guarantee.bound_redelivered) check_redelivery_bound(verdict, per_kind);

  verdict.holds =
      verdict.lost == 0 && verdict.phantom == 0 && verdict.misplaced == 0 &&
      verdict.reordered == 0 && (guarantee.allow_duplicated || verdict.duplicated == 0) &&
      (guarantee.allow_redelivered || verdict.redelivered == 0) &&
      (!guarantee.bound_redelivered ||
       (verdict.redelivered_past_commit == 0 && verdict.redelivered <= verdict.redelivery_bound));
  return verdict;
}

std::string DeliveryVerdict::to_string() const {
  std::ostringstream out;
  out << "sent " << sent << ", acknowledged " << acknowledged << ", failed " << failed
      << " (stored anyway " << failed_but_stored << "), consumed " << consumed << " ("
      << unique_consumed << " distinct), lost " << lost << ", phantom " << phantom << ", misplaced "
      << misplaced << ", reordered " << reordered << ", duplicated " << duplicated
      << ", redelivered " << redelivered;
  if (redelivery_bound > 0 || redelivered_past_commit > 0) {
    out << " (bound " << redelivery_bound << ", past a commit " << redelivered_past_commit << ")";
  }
  out << ": " << (holds ? "holds" : "VIOLATED");
  for (const auto& text : examples) out << "\n  " << text;
  return out.str();
}

}  // namespace corps::testing
