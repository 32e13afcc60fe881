#include "detail/offset_tracker.hpp"

#include <algorithm>

#include "corps/logging.hpp"

namespace corps::detail {

OffsetTracker::Progress& OffsetTracker::progress_of(std::string_view topic,
                                                    std::int32_t partition) {
  // Records come in runs of one partition: the last one asked for first.
  if (last_ != progress_.end() && last_->first.second == partition && last_->first.first == topic) {
    return last_->second;
  }
  auto found = progress_.find(KeyOrder::View(topic, partition));
  if (found == progress_.end())
    found = progress_.emplace(Key(std::string(topic), partition), Progress{}).first;
  last_ = found;
  return found->second;
}

void OffsetTracker::assigned(std::string_view topic, std::int32_t partition) {
  progress_of(topic, partition) = {};
}

void OffsetTracker::revoked(std::string_view topic, std::int32_t partition) {
  // (Heterogeneous erase is C++23; find is C++14.)
  if (auto found = progress_.find(KeyOrder::View(topic, partition)); found != progress_.end()) {
    if (found == last_) last_ = progress_.end();
    progress_.erase(found);
  }
  if (auto found = ends_.find(KeyOrder::View(topic, partition)); found != ends_.end()) {
    ends_.erase(found);
  }
}

void OffsetTracker::placed(std::string_view topic, std::int32_t partition, std::int64_t offset) {
  if (has_pending_ && pending_.topic == topic && pending_.partition == partition) {
    has_pending_ = false;
  }
  progress_of(topic, partition).next = offset;
  fetched(topic, partition);
}

void OffsetTracker::handed_out(const RecordLocation& where) {
  pending_.topic.assign(where.topic);
  pending_.partition = where.partition;
  pending_.next_offset = where.offset + 1;
  has_pending_ = true;
}

const OffsetTracker::Position* OffsetTracker::take_pending() {
  if (!has_pending_) return nullptr;
  has_pending_ = false;
  return &pending_;
}

void OffsetTracker::drop_pending(const std::optional<RecordLocation>& where) {
  if (!has_pending_) return;
  if (!where || (pending_.topic == where->topic && pending_.partition == where->partition &&
                 pending_.next_offset <= where->offset + 1)) {
    has_pending_ = false;
  }
}

void OffsetTracker::reached_end(std::string_view topic, std::int32_t partition,
                                std::int64_t offset) {
  const auto found = ends_.find(KeyOrder::View(topic, partition));
  if (found != ends_.end()) {
    found->second = offset;
  } else {
    ends_.emplace(Key(std::string(topic), partition), offset);
  }
}

void OffsetTracker::fetched(std::string_view topic, std::int32_t partition) {
  if (ends_.empty()) return;
  const auto found = ends_.find(KeyOrder::View(topic, partition));
  if (found != ends_.end()) ends_.erase(found);
}

std::optional<std::int64_t> OffsetTracker::end_of(std::string_view topic,
                                                  std::int32_t partition) const {
  const auto found = ends_.find(KeyOrder::View(topic, partition));
  if (found == ends_.end()) return std::nullopt;
  return found->second;
}

std::int64_t OffsetTracker::committed_start(const RecordLocation& where, LogFacts& facts) {
  Progress& state = progress_of(where.topic, where.partition);
  if (!state.committed) {
    std::vector<Key> asked;
    for (const auto& [key, known] : progress_) {
      if (!known.committed && !known.next) asked.push_back(key);
    }
    const Key own(where.topic, where.partition);
    if (std::find(asked.begin(), asked.end(), own) == asked.end()) asked.push_back(own);
    const auto offsets = facts.committed(asked);
    if (!offsets || offsets->size() != asked.size()) {
      logger()->warn(
          "cannot read the group's committed offsets: records deleted before {} was read "
          "would go unreported",
          where.to_string());
      return -1;
    }
    for (std::size_t i = 0; i < asked.size(); ++i) {
      const auto found = progress_.find(asked[i]);
      if (found != progress_.end())
        found->second.committed = std::max<std::int64_t>(-1, (*offsets)[i]);
    }
  }
  return state.committed.value_or(-1);
}

OffsetTracker::Arrival OffsetTracker::arrived(const RecordLocation& where, LogFacts& facts) {
  Progress& state = progress_of(where.topic, where.partition);
  const std::optional<std::int64_t> due = state.next;
  if (due && *due == where.offset) {  // the usual case, first
    state.next = where.offset + 1;
    state.resumes = 0;
    return {};
  }
  std::int64_t from = -1;
  if (due) {
    if (where.offset < *due) {
      if (auto resume = resume_at(state, where, *due, facts)) {
        return {.missing = std::nullopt, .resume_at = resume};
      }
      state.next = where.offset + 1;
      return {};
    }
    from = *due;
  } else if (grouped_) {
    // The first record since the partition was assigned. A group resumes
    // from its commit, unless the broker deleted the records there, when it
    // starts at the oldest one kept: the log start, past the commit. A
    // start at the log start below the commit is the client going back.
    const auto low = facts.known_log_start(where.topic, where.partition);
    if (!low || *low < 0 || where.offset != *low) {
      state.next = where.offset + 1;
      return {};  // resumed at its commit: nothing deleted, nothing read again
    }
    from = committed_start(where, facts);
    if (from > where.offset) {
      if (auto resume = resume_at(state, where, from, facts)) {
        return {.missing = std::nullopt, .resume_at = resume};
      }
    }
    if (from < 0 || from >= where.offset) {
      state.next = where.offset + 1;
      return {};
    }
  } else {
    state.next = where.offset + 1;
    return {};  // no group: the start was where it was asked to be
  }
  state.next = where.offset + 1;
  state.resumes = 0;
  const std::int64_t low = facts.log_start(where.topic, where.partition);
  if (low < 0 || from >= low) return {};  // compacted or skipped, not deleted
  return {.missing = Missing{from, std::min(where.offset, low) - 1}, .resume_at = std::nullopt};
}

std::optional<std::int64_t> OffsetTracker::resume_at(Progress& state, const RecordLocation& where,
                                                     std::int64_t offset, LogFacts& facts) {
  // A few times over, in case the broker answers "out of range" again.
  constexpr int most_resumes = 3;
  const auto high = facts.known_log_end(where.topic, where.partition);
  if (high && *high >= 0 && offset > *high) {
    logger()->warn(
        "{} came again, though offset {} was read or committed before: the log now ends at "
        "{}, so reading goes on from here (records may come twice)",
        where.to_string(), offset, *high);
    return std::nullopt;
  }
  if (state.resumes >= most_resumes) {
    logger()->warn(
        "{} came again, though offset {} was read or committed before, after {} returns to "
        "it: reading goes on from here (records may come twice)",
        where.to_string(), offset, state.resumes);
    return std::nullopt;
  }
  ++state.resumes;
  return offset;
}

}  // namespace corps::detail
