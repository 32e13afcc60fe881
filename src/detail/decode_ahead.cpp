#include "detail/decode_ahead.hpp"

#include <exception>

#include "corps/logging.hpp"
#include "detail/signal_free_thread.hpp"

namespace corps::detail {

namespace {

// A record goes to a worker only if it is at least this large (as
// fetched). A small record decodes in a few microseconds, less than the
// hand-over between threads costs; and a stream of records allocated on one
// thread and freed on another contends for malloc's locks. Small records
// are decoded by take(), on the consumer's thread, as without workers.
constexpr std::size_t worker_min_bytes = std::size_t{32} << 10;
// Small records are kept in batches of this many: one entry in order_
// each, not one per record.
constexpr std::size_t batch_messages = 64;
// What holding a message costs beyond its key and value: librdkafka's
// message, the Record, the entry. Counted so that a read-ahead of empty
// records is bounded too.
constexpr std::size_t bytes_per_message = 512;

}  // namespace

DecodeAhead::DecodeAhead(unsigned threads, std::size_t max_bytes,
                         const std::function<std::unique_ptr<RecordDecoder>()>& make_decoder)
    : max_bytes_(max_bytes) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.push_back(signal_free_thread(
        [this, decoder = std::shared_ptr<RecordDecoder>(make_decoder())] { work(*decoder); }));
  }
}

DecodeAhead::~DecodeAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    to_decode_.clear();
  }
  work_ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

bool DecodeAhead::wants_more() const noexcept {
  return bytes_ + decoded_bytes_.load(std::memory_order_relaxed) < max_bytes_ &&
         small_held_ < batch_messages;
}

void DecodeAhead::add(MessagePtr message, RecordLocation where,
                      std::chrono::steady_clock::time_point fetched_at) {
  const std::size_t bytes = message->len + message->key_len + bytes_per_message;
  bytes_ += bytes;
  Entry entry{std::move(where), discards_, fetched_at, std::move(message), std::nullopt};
  if (entry.message->len < worker_min_bytes) {
    // A batch's room is made once and used again (a Record is large: a
    // batch of them is tens of kilobytes, which malloc makes slowly), not
    // grown record by record as it fills.
    if (open_.entries.capacity() < batch_messages) {
      if (spare_entries_.capacity() >= batch_messages) {
        open_.entries.swap(spare_entries_);
      } else {
        open_.entries.reserve(batch_messages);
      }
    }
    open_.bytes += bytes;
    open_.entries.push_back(std::move(entry));
    ++small_held_;
    if (open_.entries.size() >= batch_messages) close_open();
    return;
  }
  close_open();  // the small records before it keep their place
  auto batch = std::make_shared<Batch>();
  batch->bytes = bytes;
  batch->entries.push_back(std::move(entry));
  batch->for_workers = true;
  order_.push_back(batch);
  {
    std::lock_guard lock(mutex_);
    to_decode_.push_back(std::move(batch));
  }
  work_ready_.notify_one();
}

void DecodeAhead::close_open() {
  if (open_.entries.empty()) return;
  order_.push_back(std::make_shared<Batch>(std::move(open_)));
  open_ = Batch{};
}

void DecodeAhead::work(RecordDecoder& decoder) {
  std::unique_lock lock(mutex_);
  for (;;) {
    // At the bound, the next batch waits for the consumer to take what was
    // decoded; it may decode that batch itself meanwhile.
    work_ready_.wait(
        lock, [&] { return stopping_ || (!to_decode_.empty() && decoded_bytes_ < max_bytes_); });
    if (stopping_) return;
    const std::shared_ptr<Batch> batch = std::move(to_decode_.front());
    to_decode_.pop_front();
    lock.unlock();
    const std::size_t held = decode(*batch, decoder);
    lock.lock();
    batch->decoded_bytes = held;
    batch->decoded = true;
    batch_decoded_.notify_all();
  }
}

std::size_t DecodeAhead::decode(Batch& batch, RecordDecoder& decoder) {
  std::size_t held = 0;
  for (Entry& entry : batch.entries) {
    if (decoded_bytes_.load(std::memory_order_relaxed) >= max_bytes_) break;
    if (entry.message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // an event: as it is
    try {
      std::size_t size = 0;
      entry.record.emplace(decoder.decode(*entry.message, entry.where, entry.fetched_at, &size));
      held += size;
      decoded_bytes_.fetch_add(size, std::memory_order_relaxed);
    } catch (const std::exception& e) {
      // Decoding reports failures in the Record; only running out of
      // memory throws. The record is then left to the consumer.
      logger()->error("decoding {} ahead failed: {}", entry.where.to_string(), e.what());
      continue;
    }
    entry.message.reset();  // back to librdkafka, which may free its fetch buffer
  }
  return held;
}

bool DecodeAhead::discarded(const Entry& entry) const {
  if (entry.added == discards_) return false;  // nothing was discarded since
  const auto topic = discarded_at_.find(entry.where.topic);
  if (topic == discarded_at_.end()) return false;
  const auto partition = topic->second.find(entry.where.partition);
  return partition != topic->second.end() && partition->second > entry.added;
}

void DecodeAhead::discard(std::string_view topic, std::int32_t partition) {
  // Entries added before carry a smaller discards_ than the partition's now.
  ++discards_;
  auto found = discarded_at_.find(topic);
  if (found == discarded_at_.end())
    found = discarded_at_.emplace(std::string(topic), Discards{}).first;
  found->second[partition] = discards_;
}

void DecodeAhead::pop_head() {
  bytes_ -= order_.front()->bytes;
  if (const std::size_t held = order_.front()->decoded_bytes; held > 0) {
    {
      std::lock_guard lock(mutex_);
      decoded_bytes_ -= held;
    }
    work_ready_.notify_all();
  }
  if (!order_.front()->for_workers) {
    small_held_ -= order_.front()->entries.size();
    // Only this thread has a batch of small records.
    spare_entries_.swap(order_.front()->entries);
    spare_entries_.clear();
  }
  order_.pop_front();
  next_in_head_ = 0;
}

std::optional<Fetched> DecodeAhead::take(std::chrono::milliseconds timeout,
                                         RecordDecoder& here_decoder) {
  if (order_.empty()) close_open();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!order_.empty()) {
    Batch& head = *order_.front();
    bool here = !head.for_workers && !head.decoded;
    if (head.for_workers) {
      std::unique_lock lock(mutex_);
      if (!head.decoded && !to_decode_.empty() && to_decode_.front().get() == &head) {
        // No worker has started it: decoding it here beats waiting, and the
        // workers go on with the batches after it meanwhile.
        to_decode_.pop_front();
        here = true;
      } else if (!batch_decoded_.wait_until(lock, deadline, [&] { return head.decoded; })) {
        return std::nullopt;
      }
    }
    if (here) {
      // Small records are decoded a batch at a time, but only within the
      // bound, with what the workers hold: past it, one at a time as they
      // are handed out. What they hold counts against the bound as the
      // workers' batches do, so the workers do not fill it again on top.
      const std::size_t decoded_here = decode(head, here_decoder);
      std::lock_guard lock(mutex_);
      head.decoded_bytes = decoded_here;
      head.decoded = true;  // no worker has it
    }
    while (next_in_head_ < head.entries.size()) {
      Entry& entry = head.entries[next_in_head_++];
      if (discarded(entry)) continue;
      Fetched fetched{std::move(entry.where), entry.fetched_at, std::move(entry.message),
                      std::move(entry.record)};
      if (next_in_head_ == head.entries.size()) pop_head();
      return fetched;
    }
    pop_head();
  }
  return std::nullopt;
}

}  // namespace corps::detail
