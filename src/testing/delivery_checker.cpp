#include "corps/testing/delivery_checker.hpp"

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
  receipts_.push_back({value, where});
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

  verdict.holds = verdict.lost == 0 && verdict.phantom == 0 && verdict.misplaced == 0 &&
                  verdict.reordered == 0 &&
                  (guarantee.allow_duplicated || verdict.duplicated == 0) &&
                  (guarantee.allow_redelivered || verdict.redelivered == 0);
  return verdict;
}

std::string DeliveryVerdict::to_string() const {
  std::ostringstream out;
  out << "sent " << sent << ", acknowledged " << acknowledged << ", failed " << failed
      << " (stored anyway " << failed_but_stored << "), consumed " << consumed << " ("
      << unique_consumed << " distinct), lost " << lost << ", phantom " << phantom << ", misplaced "
      << misplaced << ", reordered " << reordered << ", duplicated " << duplicated
      << ", redelivered " << redelivered << ": " << (holds ? "holds" : "VIOLATED");
  for (const auto& text : examples) out << "\n  " << text;
  return out.str();
}

}  // namespace corps::testing
