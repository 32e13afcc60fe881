#include "detail/ordered_workers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using corps::detail::OrderedWorkers;
using namespace std::chrono_literals;

struct Journal {
  std::mutex mutex;
  std::vector<int> finished;
  std::vector<int> worked;  // in the order work() ended
  std::atomic<int> working{0};
  std::atomic<int> most_working{0};
  std::atomic<int> most_outstanding{0};
};

// An item that notes in the journal when it is finished.
class Journaled : public OrderedWorkers::Item {
 public:
  Journaled(Journal& journal, int id) : journal_(journal), id_(id) {}

  void finish(std::exception_ptr failure) noexcept override {
    EXPECT_FALSE(failure);
    std::lock_guard lock(journal_.mutex);
    journal_.finished.push_back(id_);
  }

 protected:
  Journal& journal_;
  int id_;
};

// Works for a random short while, so items complete out of order.
class Sleeper final : public Journaled {
 public:
  Sleeper(Journal& journal, int id, std::chrono::microseconds nap)
      : Journaled(journal, id), nap_(nap) {}

  void work(unsigned worker) override {
    EXPECT_LT(worker, 3u);
    const int now = ++journal_.working;
    int seen = journal_.most_working.load();
    while (now > seen && !journal_.most_working.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(nap_);
    --journal_.working;
  }

 private:
  std::chrono::microseconds nap_;
};

// Each even item's work waits until the odd item after it has done its own,
// so work ends out of submission order, for certain; finish() must still
// run in submission order.
class Overtaken final : public Journaled {
 public:
  Overtaken(Journal& journal, std::vector<std::atomic<bool>>& worked, int id)
      : Journaled(journal, id), worked_(worked) {}

  void work(unsigned /*worker*/) override {
    if (id_ % 2 == 0) {
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (!worked_[static_cast<std::size_t>(id_ + 1)] &&
             std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
      }
    }
    {
      std::lock_guard lock(journal_.mutex);
      journal_.worked.push_back(id_);
    }
    worked_[static_cast<std::size_t>(id_)] = true;
  }

 private:
  std::vector<std::atomic<bool>>& worked_;
};

TEST(OrderedWorkers, FinishesInSubmissionOrderWhateverOrderTheWorkEnds) {
  constexpr int items = 200;
  Journal journal;
  std::vector<std::atomic<bool>> worked(items);
  {
    OrderedWorkers workers(3, 8);
    for (int id = 0; id < items; ++id) {
      workers.submit(std::make_unique<Overtaken>(journal, worked, id));
      const int outstanding = static_cast<int>(workers.outstanding());
      if (outstanding > journal.most_outstanding) journal.most_outstanding = outstanding;
    }
    EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s));
    EXPECT_EQ(workers.outstanding(), 0u);
  }
  std::vector<int> in_order(items);
  for (int id = 0; id < items; ++id) in_order[static_cast<std::size_t>(id)] = id;
  // The work did end out of order: every odd item before the even one
  // submitted just before it.
  ASSERT_EQ(journal.worked.size(), in_order.size());
  for (int id = 0; id < items; id += 2) {
    const auto at = [&](int which) {
      return std::find(journal.worked.begin(), journal.worked.end(), which);
    };
    EXPECT_LT(at(id + 1), at(id)) << "item " << id + 1 << " did not overtake item " << id;
  }
  EXPECT_NE(journal.worked, in_order);
  EXPECT_EQ(journal.finished, in_order);
  EXPECT_LE(journal.most_outstanding.load(), 8) << "submit() let more than the bound wait";
}

TEST(OrderedWorkers, NeverRunsMoreWorkAtOnceThanItHasThreads) {
  Journal journal;
  {
    OrderedWorkers workers(3, 8);
    std::mt19937 random(5);
    for (int id = 0; id < 200; ++id) {
      workers.submit(
          std::make_unique<Sleeper>(journal, id, std::chrono::microseconds(random() % 2000)));
    }
    EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s));
  }
  EXPECT_EQ(journal.finished.size(), 200U);
  EXPECT_GE(journal.most_working.load(), 2) << "the work never overlapped";
  EXPECT_LE(journal.most_working.load(), 3);
}

TEST(OrderedWorkers, TheDestructorFinishesWhatWasSubmitted) {
  Journal journal;
  {
    OrderedWorkers workers(2, 4);
    for (int id = 0; id < 20; ++id) workers.submit(std::make_unique<Sleeper>(journal, id, 1ms));
  }
  EXPECT_EQ(journal.finished.size(), 20u);
}

// Throws from work() when its id is a multiple of three.
class Thrower final : public OrderedWorkers::Item {
 public:
  Thrower(std::vector<std::string>& finished, int id) : finished_(finished), id_(id) {}

  void work(unsigned /*worker*/) override {
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (id_ % 4)));
    if (id_ % 3 == 0) throw std::runtime_error("item " + std::to_string(id_) + " failed");
  }

  // Runs one at a time (the pool's promise), so no lock.
  void finish(std::exception_ptr failure) noexcept override {
    std::string what = "ok";
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        what = e.what();
      }
    }
    finished_.push_back(std::to_string(id_) + ": " + what);
  }

 private:
  std::vector<std::string>& finished_;
  int id_;
};

TEST(OrderedWorkers, WhatWorkThrowsReachesFinishInItsTurn) {
  std::vector<std::string> finished;
  {
    OrderedWorkers workers(2, 4);
    for (int id = 0; id < 12; ++id) workers.submit(std::make_unique<Thrower>(finished, id));
    EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s))
        << "an item that threw held up the ones after it";
  }
  std::vector<std::string> expected;
  for (int id = 0; id < 12; ++id) {
    expected.push_back(std::to_string(id) + ": " +
                       (id % 3 == 0 ? "item " + std::to_string(id) + " failed" : "ok"));
  }
  EXPECT_EQ(finished, expected);
}

TEST(OrderedWorkers, WaitIdleGivesUpAtTheDeadline) {
  Journal journal;
  OrderedWorkers workers(1, 2);
  workers.submit(std::make_unique<Sleeper>(journal, 0, 300ms));
  EXPECT_FALSE(workers.wait_idle(std::chrono::steady_clock::now() + 10ms));
  EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s));
}

}  // namespace
