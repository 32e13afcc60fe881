// Waiting in tests: for a condition, with a deadline, saying what was waited
// for when the deadline comes first. No test sleeps a fixed time in the hope
// that something happened meanwhile.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

namespace corps_tests {

/// Polls `done` until it returns true or `limit` passes. Returns whether it
/// did; if not, records a test failure naming `what` was waited for.
template <class Done>
bool wait_until(Done&& done, std::chrono::milliseconds limit, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "waited " << limit.count() << " ms for " << what << ", in vain";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace corps_tests
