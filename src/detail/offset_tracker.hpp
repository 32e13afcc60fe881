// OffsetTracker: what a consumer knows of its partitions' offsets, apart
// from the Kafka client: the record handed out and not yet handled, where
// each partition is due to read next, where each was last found to end,
// whether a jump in offsets hides records the broker deleted unread, and
// whether the client went back to records already read or committed.
//
// It holds no client: what only the broker can say (a partition's log start,
// the group's committed offsets) it asks of a LogFacts, so its rules are
// tested without a broker (tests/unit/offset_tracker_test.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corps/error.hpp"

namespace corps::detail {

/// What the broker says of a partition's offsets, as the tracker needs it.
class LogFacts {
 public:
  virtual ~LogFacts() = default;
  /// The partition's log start as of the last fetch, without asking the
  /// broker; nullopt if not known.
  virtual std::optional<std::int64_t> known_log_start(std::string_view topic,
                                                      std::int32_t partition) = 0;
  /// The partition's log end (high watermark) as of the last fetch,
  /// without asking the broker; nullopt if not known.
  virtual std::optional<std::int64_t> known_log_end(std::string_view topic,
                                                    std::int32_t partition) = 0;
  /// The partition's log start, asking the broker if it is not known; -1
  /// if it cannot be had.
  virtual std::int64_t log_start(std::string_view topic, std::int32_t partition) = 0;
  /// The group's committed offset of each of `partitions` (-1 for none), or
  /// nullopt if the broker could not say.
  virtual std::optional<std::vector<std::int64_t>> committed(
      const std::vector<std::pair<std::string, std::int32_t>>& partitions) = 0;
};

class OffsetTracker {
 public:
  /// The record handed out last: its partition and the offset after it.
  struct Position {
    std::string topic;
    std::int32_t partition;
    std::int64_t next_offset;
  };
  /// Offsets `from`..`to` (inclusive) of a partition, deleted unread.
  struct Missing {
    std::int64_t from;
    std::int64_t to;
  };

  /// `grouped`: the consumer is in a group, which resumes from its commits.
  explicit OffsetTracker(bool grouped) : grouped_(grouped) {}
  // It keeps an iterator into itself.
  OffsetTracker(const OffsetTracker&) = delete;
  OffsetTracker& operator=(const OffsetTracker&) = delete;

  /// The partition is now this consumer's; nothing is known of it yet.
  void assigned(std::string_view topic, std::int32_t partition);
  /// The partition is no longer this consumer's: all of it is forgotten.
  void revoked(std::string_view topic, std::int32_t partition);
  /// The partition reads from `offset` next (an explicit start, a rewind);
  /// a record handed out from it is no longer pending.
  void placed(std::string_view topic, std::int32_t partition, std::int64_t offset);

  /// The record at `where` went to the application: pending until the next.
  void handed_out(const RecordLocation& where);
  /// The pending record's position, now no longer pending (valid until
  /// the next handed_out), or null if none is.
  const Position* take_pending();
  /// Forgets the pending record if it is at or before `where` (committed
  /// explicitly), or unconditionally with nullopt.
  void drop_pending(const std::optional<RecordLocation>& where = std::nullopt);

  /// The partition was read to its end, which is at `offset`.
  void reached_end(std::string_view topic, std::int32_t partition, std::int64_t offset);
  /// A record of the partition was fetched: its end is no longer known.
  void fetched(std::string_view topic, std::int32_t partition);
  /// Where the partition ended when last read to its end, if no record of
  /// it was fetched since.
  [[nodiscard]] std::optional<std::int64_t> end_of(std::string_view topic,
                                                   std::int32_t partition) const;

  /// What the arrival of a record means for its partition's offsets.
  struct Arrival {
    /// Offsets the broker deleted before this consumer read them. Offsets
    /// may jump for other reasons (compaction, transaction markers, a start
    /// at the end): only those below the log start were deleted.
    std::optional<Missing> missing;
    /// Set when the client went back by itself to before the records this
    /// consumer read, or (first since the partition was assigned) to the
    /// log start below the group's commit: librdkafka does so when a fetch
    /// is answered "offset out of range", as a restarting broker or a new
    /// leader may answer for a moment. The offset reading should go on from;
    /// the record is not to be delivered. Only where the log still reaches
    /// that offset: after a truncated log, reading again loses nothing.
    std::optional<std::int64_t> resume_at;
  };
  /// What the record at `where` arriving means; records it as read unless
  /// resume_at is set.
  Arrival arrived(const RecordLocation& where, LogFacts& facts);

 private:
  using Key = std::pair<std::string, std::int32_t>;
  // Orders keys, and finds one by a string_view topic: no string is built to
  // look a record's partition up.
  struct KeyOrder {
    using is_transparent = void;
    using View = std::pair<std::string_view, std::int32_t>;
    static View view(const Key& key) noexcept { return {key.first, key.second}; }
    static View view(const View& key) noexcept { return key; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return view(a) < view(b);
    }
  };
  struct Progress {
    // The offset due next: after the last record read, or where reading was
    // placed. Unknown after an assignment.
    std::optional<std::int64_t> next;
    // The group's committed offset when the partition was assigned, once
    // asked for, or -1 if it has none.
    std::optional<std::int64_t> committed;
    // Times reading went on from resume_at with no record read since: a
    // bound, so a client that keeps going back cannot loop forever.
    int resumes = 0;
  };

  Progress& progress_of(std::string_view topic, std::int32_t partition);
  // The group's committed offset of `where`'s partition when it was
  // assigned, or -1 if none or unknown; one question to the broker for all
  // assigned partitions not asked about yet.
  std::int64_t committed_start(const RecordLocation& where, LogFacts& facts);
  // resume_at, if the log reaches `offset` and the bound is not spent; else
  // the record at `where` is read (again) as any other.
  std::optional<std::int64_t> resume_at(Progress& state, const RecordLocation& where,
                                        std::int64_t offset, LogFacts& facts);

  bool grouped_;
  // Kept (and its topic's buffer with it) when nothing is pending: a
  // record handed out costs no allocation.
  Position pending_{};
  bool has_pending_ = false;
  std::map<Key, Progress, KeyOrder> progress_;
  // The entry progress_of found last (map entries stay put until erased).
  std::map<Key, Progress, KeyOrder>::iterator last_ = progress_.end();
  std::map<Key, std::int64_t, KeyOrder> ends_;
};

}  // namespace corps::detail
