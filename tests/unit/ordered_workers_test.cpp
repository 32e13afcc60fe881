#include "detail/ordered_workers.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace {

using corps::detail::OrderedWorkers;
using namespace std::chrono_literals;

struct Journal {
  std::mutex mutex;
  std::vector<int> finished;
  std::atomic<int> working{0};
  std::atomic<int> most_working{0};
  std::atomic<int> most_outstanding{0};
};

// Works for a random short while, so items complete out of order.
class Sleeper final : public OrderedWorkers::Item {
 public:
  Sleeper(Journal& journal, int id, std::chrono::microseconds nap)
      : journal_(journal), id_(id), nap_(nap) {}

  void work(unsigned worker) override {
    EXPECT_LT(worker, 3u);
    const int now = ++journal_.working;
    int seen = journal_.most_working.load();
    while (now > seen && !journal_.most_working.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(nap_);
    --journal_.working;
  }

  void finish() override {
    std::lock_guard lock(journal_.mutex);
    journal_.finished.push_back(id_);
  }

 private:
  Journal& journal_;
  int id_;
  std::chrono::microseconds nap_;
};

TEST(OrderedWorkers, FinishesInSubmissionOrderWhateverOrderTheWorkEnds) {
  Journal journal;
  {
    OrderedWorkers workers(3, 8);
    std::mt19937 random(5);
    for (int id = 0; id < 200; ++id) {
      workers.submit(
          std::make_unique<Sleeper>(journal, id, std::chrono::microseconds(random() % 2000)));
      const int outstanding = static_cast<int>(workers.outstanding());
      if (outstanding > journal.most_outstanding) journal.most_outstanding = outstanding;
    }
    EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s));
    EXPECT_EQ(workers.outstanding(), 0u);
  }
  std::vector<int> expected(200);
  for (int id = 0; id < 200; ++id) expected[static_cast<std::size_t>(id)] = id;
  EXPECT_EQ(journal.finished, expected);
  EXPECT_LE(journal.most_outstanding.load(), 8) << "submit() let more than the bound wait";
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

TEST(OrderedWorkers, WaitIdleGivesUpAtTheDeadline) {
  Journal journal;
  OrderedWorkers workers(1, 2);
  workers.submit(std::make_unique<Sleeper>(journal, 0, 300ms));
  EXPECT_FALSE(workers.wait_idle(std::chrono::steady_clock::now() + 10ms));
  EXPECT_TRUE(workers.wait_idle(std::chrono::steady_clock::now() + 60s));
}

}  // namespace
