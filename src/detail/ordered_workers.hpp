// A pool of threads that works on items in parallel and finishes them in the
// order they were submitted: how the producer compresses several records at
// once and still hands them to librdkafka in send order, which keeps the
// order of every partition.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace corps::detail {

class OrderedWorkers {
 public:
  /// One piece of work.
  class Item {
   public:
    virtual ~Item() = default;
    /// Runs on worker `worker` (0..threads-1), in parallel with other items.
    /// May throw: finish() is then handed what it threw.
    virtual void work(unsigned worker) = 0;
    /// Runs after work(), in submission order, one item at a time, on
    /// whichever thread finds it next in line; never under the pool's lock.
    /// `failure` is what work() threw, or null. Must not throw: every item
    /// after this one waits for it.
    virtual void finish(std::exception_ptr failure) noexcept = 0;
  };

  /// Whether submit() waits for room under the bound.
  enum class Admission {
    /// Waits while `max_outstanding` items are submitted but not finished.
    wait_for_room,
    /// Never waits: for a caller whose waiting could keep the items in line
    /// from finishing (one running inside a finish()). The bound is then
    /// exceeded by as many items as such callers submit.
    immediately,
  };

  /// `threads` workers; submit() waits while `max_outstanding` items are
  /// submitted but not finished, which bounds the memory they hold.
  OrderedWorkers(unsigned threads, std::size_t max_outstanding);
  /// Finishes everything submitted, then stops the workers.
  ~OrderedWorkers();
  OrderedWorkers(const OrderedWorkers&) = delete;
  OrderedWorkers& operator=(const OrderedWorkers&) = delete;

  void submit(std::unique_ptr<Item> item, Admission admission = Admission::wait_for_room);
  /// Waits until every submitted item is finished, or the deadline passes;
  /// true if none is left.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);
  /// Submitted and not yet finished.
  [[nodiscard]] std::size_t outstanding() const;

 private:
  void run(unsigned worker);
  // Finishes the items next in line, if no other thread is doing so.
  void finish_ready(std::unique_lock<std::mutex>& lock);

  const std::size_t max_outstanding_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;  // an item to work on, or stopping
  std::condition_variable progress_;    // an item finished
  std::deque<std::pair<std::uint64_t, std::unique_ptr<Item>>> waiting_;
  struct Worked {
    std::unique_ptr<Item> item;
    std::exception_ptr failure;  // what work() threw
  };
  std::map<std::uint64_t, Worked> worked_;
  std::uint64_t next_submitted_ = 0;
  std::uint64_t next_finished_ = 0;
  bool finishing_ = false;  // a thread is running finish() on items in line
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace corps::detail
