// Watchdog: stops a consumer after a time limit unless the test finished
// first, so a failing test ends instead of hanging in Consumer::run.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

#include "corps/consumer.hpp"

namespace corps_tests {

class Watchdog {
 public:
  Watchdog(corps::Consumer& consumer, std::chrono::seconds limit)
      : thread_([this, &consumer, limit] {
          const auto until = std::chrono::steady_clock::now() + limit;
          while (!done_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
          consumer.stop();
        }) {}
  ~Watchdog() {
    done_ = true;
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace corps_tests
