// DecodeAhead: the consumer's read-ahead. The application's thread takes
// messages from librdkafka (so rebalances stay on it, as librdkafka needs)
// and adds them here; worker threads decode the large ones while the
// application handles the records before; take() hands them back in the
// order they were added, which keeps each partition's offset order. Small
// records, and a large one no worker has started by the time it is
// needed, are decoded by take() itself: handing a small record over costs
// more than decoding it, and the application never waits on an idle queue.
//
// A partition that is revoked or rewound is discarded: what was fetched of
// it before is never handed out (and so never counted handled or
// committed), even if a worker is decoding it at that moment. Messages that
// are not records (errors, a partition's end) go through in their place,
// undecoded, so the consumer sees them when it would have without the
// read-ahead.
//
// Everything but the workers' decoding runs on the consumer's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "corps/record.hpp"
#include "detail/rdkafka_handles.hpp"
#include "detail/record_decoder.hpp"

namespace corps::detail {

/// One message taken from librdkafka, as the consumer gets it back.
struct Fetched {
  RecordLocation where;
  std::chrono::steady_clock::time_point fetched_at;
  /// A message that is not a record (an error, a partition's end), or a
  /// record left undecoded (past the bound, or its decoding threw), as it
  /// came; null for a record decoded ahead.
  MessagePtr event;
  /// The record, decoded; unset for an event or a record left undecoded.
  std::optional<Record> record;
};

class DecodeAhead {
 public:
  /// `threads` workers (at least one), each decoding with a decoder of its
  /// own from `make_decoder`; at most `max_bytes` of fetched messages held.
  DecodeAhead(unsigned threads, std::size_t max_bytes,
              const std::function<std::unique_ptr<RecordDecoder>()>& make_decoder);
  /// Stops the workers; what was not taken is dropped.
  ~DecodeAhead();
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;

  /// Whether more should be added: there is room within the bound, and
  /// few small records are waiting (reading small records far ahead gains
  /// nothing, as they are not handed to the workers, and costs the cache).
  [[nodiscard]] bool wants_more() const noexcept;
  /// Nothing added is left to take.
  [[nodiscard]] bool empty() const noexcept { return order_.empty() && open_.entries.empty(); }
  /// A message just taken from librdkafka, at `where`.
  void add(MessagePtr message, RecordLocation where,
           std::chrono::steady_clock::time_point fetched_at);
  /// The oldest message added and not discarded, once decoded; nullopt if
  /// there is none, or it is not decoded within `timeout`. What no worker
  /// has started by then (and every small record) is decoded with `here`,
  /// the consumer's thread's own decoder.
  std::optional<Fetched> take(std::chrono::milliseconds timeout, RecordDecoder& here);
  /// Everything of the partition added so far is dropped, never taken.
  void discard(std::string_view topic, std::int32_t partition);

 private:
  struct Entry {
    RecordLocation where;
    std::uint64_t added = 0;  // discards_ when it was added
    std::chrono::steady_clock::time_point fetched_at;
    MessagePtr message;  // until decoded, or for an event
    std::optional<Record> record;
  };
  struct Batch {
    std::vector<Entry> entries;
    std::size_t bytes = 0;
    // Set before it is shared: large records, decoded by a worker unless
    // take() needs them first. Small ones are decoded by take().
    bool for_workers = false;
    bool decoded = false;  // under mutex_ when for_workers
    // What its decoded messages hold, serialized: counted against the
    // bound (a record of zeros can be a thousand times its fetched size)
    // until it is taken. Set with `decoded`, by a worker or by take().
    std::size_t decoded_bytes = 0;
  };

  void close_open();
  // Decodes `batch`'s records in order while what every decoder holds is
  // under the bound, counting each as it is decoded; those after stay
  // undecoded, for the consumer to decode one at a time. Returns what the
  // decoded ones hold.
  std::size_t decode(Batch& batch, RecordDecoder& decoder);
  bool discarded(const Entry& entry) const;
  void pop_head();
  void work(RecordDecoder& decoder);

  const std::size_t max_bytes_;
  // The consumer's thread's own.
  std::size_t bytes_ = 0;
  std::size_t small_held_ = 0;        // small records in order_ and open_
  Batch open_;                        // small records added, not yet in order_
  std::vector<Entry> spare_entries_;  // a taken batch's room, for the next
  std::deque<std::shared_ptr<Batch>> order_;
  std::size_t next_in_head_ = 0;
  std::uint64_t discards_ = 0;
  // Per topic and partition: discards_ just after it was last discarded.
  using Discards = std::map<std::int32_t, std::uint64_t>;
  std::map<std::string, Discards, std::less<>> discarded_at_;
  // Shared with the workers.
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable batch_decoded_;
  std::deque<std::shared_ptr<Batch>> to_decode_;
  // What the batches not yet taken decoded to: added to record by record
  // as any decoder (a worker, or take()) decodes, so that none goes on
  // past the bound while another fills it; taken off under mutex_ when a
  // batch is taken. Workers wait while it is at the bound, so what is
  // decoded ahead is bounded too.
  std::atomic<std::size_t> decoded_bytes_{0};
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace corps::detail
