#include "detail/ordered_workers.hpp"

#include <algorithm>

#include "detail/signal_free_thread.hpp"

namespace corps::detail {

OrderedWorkers::OrderedWorkers(unsigned threads, std::size_t max_outstanding)
    : max_outstanding_(std::max<std::size_t>(max_outstanding, 1)) {
  threads = std::max(threads, 1U);
  threads_.reserve(threads);
  for (unsigned worker = 0; worker < threads; ++worker) {
    threads_.push_back(signal_free_thread([this, worker] { run(worker); }));
  }
}

OrderedWorkers::~OrderedWorkers() {
  {
    std::unique_lock lock(mutex_);
    progress_.wait(lock, [this] { return next_finished_ == next_submitted_; });
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void OrderedWorkers::submit(std::unique_ptr<Item> item, Admission admission) {
  std::unique_lock lock(mutex_);
  if (admission == Admission::wait_for_room) {
    progress_.wait(lock, [this] { return next_submitted_ - next_finished_ < max_outstanding_; });
  }
  waiting_.emplace_back(next_submitted_++, std::move(item));
  lock.unlock();
  work_ready_.notify_one();
}

bool OrderedWorkers::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return progress_.wait_until(lock, deadline, [this] { return next_finished_ == next_submitted_; });
}

std::size_t OrderedWorkers::outstanding() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(next_submitted_ - next_finished_);
}

void OrderedWorkers::run(unsigned worker) {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, and nothing left
    auto [sequence, item] = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    std::exception_ptr failure;
    try {
      item->work(worker);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    worked_.emplace(sequence, Worked{std::move(item), std::move(failure)});
    finish_ready(lock);
  }
}

void OrderedWorkers::finish_ready(std::unique_lock<std::mutex>& lock) {
  // One thread at a time finishes, so finish() calls keep their order even
  // though they run unlocked; a thread that finds another at it leaves its
  // item for that one to pick up.
  if (finishing_) return;
  finishing_ = true;
  for (auto next = worked_.find(next_finished_); next != worked_.end();
       next = worked_.find(next_finished_)) {
    Worked worked = std::move(next->second);
    worked_.erase(next);
    lock.unlock();
    worked.item->finish(std::move(worked.failure));
    worked.item.reset();
    lock.lock();
    ++next_finished_;
    progress_.notify_all();
  }
  finishing_ = false;
}

}  // namespace corps::detail
