#include "history.hpp"

#include <set>
#include <sstream>

#include "corps/testing/child_process.hpp"

namespace corps::soak {

namespace {

Persistence persistence_named(const std::string& name) {
  if (name == "not_persisted") return Persistence::not_persisted;
  if (name == "persisted") return Persistence::persisted;
  return Persistence::possibly_persisted;
}

}  // namespace

History History::read(const std::vector<std::string>& producer_journals,
                      const std::vector<std::string>& consumer_journals, const std::string& topic) {
  History history;
  history.topic_ = topic;
  for (const auto& path : producer_journals) {
    for (const auto& line : testing::Journal::read(path)) {
      std::istringstream words(line);
      std::string kind;
      std::int64_t value = 0;
      words >> kind >> value;
      if (kind == "send") {
        words >> history.sent_[value].key;
      } else if (kind == "ack") {
        std::int32_t partition = -1;
        std::int64_t offset = -1;
        words >> partition >> offset;
        history.sent_[value].outcome = DeliveryReport(RecordLocation{topic, partition, offset});
      } else if (kind == "fail") {
        std::string persistence;
        std::string code;
        words >> persistence >> code;
        history.sent_[value].outcome =
            DeliveryReport{RecordLocation{topic, -1, -1},
                           Error(Errc::timed_out, Stage::delivery, "not delivered: " + code),
                           persistence_named(persistence)};
      }
    }
  }
  for (const auto& path : consumer_journals) {
    for (const auto& line : testing::Journal::read(path)) {
      std::istringstream words(line);
      std::string kind;
      words >> kind;
      if (kind == "got") {
        std::int64_t value = 0;
        std::int32_t partition = -1;
        std::int64_t offset = -1;
        std::string key;
        std::int64_t at_ms = 0;
        words >> value >> partition >> offset >> key >> at_ms;
        history.consumed_.push_back({value, RecordLocation{topic, partition, offset}, path, at_ms});
      } else if (kind == "committed") {
        std::int32_t partition = -1;
        std::int64_t offset = -1;
        std::int64_t at_ms = 0;
        words >> partition >> offset >> at_ms;
        history.committed_.push_back({partition, offset, path, at_ms});
      } else if (kind == "missing") {
        history.missing_.push_back(line);
      } else if (kind == "bad") {
        history.bad_.push_back(line);
      }
    }
  }
  for (const auto& [value, sent] : history.sent_) history.unknown_ += !sent.outcome.has_value();
  return history;
}

std::size_t History::acknowledged_unconsumed() const {
  std::set<std::int64_t> consumed;
  for (const auto& receipt : consumed_) consumed.insert(receipt.value);
  std::size_t waiting = 0;
  for (const auto& [value, sent] : sent_) {
    waiting += sent.outcome && sent.outcome->ok() && consumed.count(value) == 0;
  }
  return waiting;
}

testing::DeliveryVerdict History::judge(bool real_kafka) const {
  testing::DeliveryChecker checker;
  for (const auto& [value, sent] : sent_) {
    // A producer killed before it heard: the value may be on the log or not.
    const DeliveryReport outcome = sent.outcome.value_or(DeliveryReport{
        RecordLocation{topic_, -1, -1},
        Error(Errc::timed_out, Stage::delivery, "its producer was killed before it heard"),
        Persistence::possibly_persisted});
    checker.sent(value, outcome, sent.key);
  }
  for (const auto& receipt : consumed_) {
    checker.consumed(receipt.value, receipt.where, receipt.reader, receipt.at_ms);
  }
  for (const auto& commit : committed_) {
    checker.committed(topic_, commit.partition, commit.offset, commit.reader, commit.at_ms);
  }
  // The embedded broker keeps an idempotent producer's retries twice (it
  // de-duplicates only transactional ones); Kafka must not. Consumers
  // redeliver after a kill or a rebalance, as at-least-once allows, but
  // only what the group had not committed.
  return checker.check(
      {.allow_duplicated = !real_kafka, .allow_redelivered = true, .bound_redelivered = true});
}

}  // namespace corps::soak
