// What a stretch of work cost the process: wall time, CPU time of every
// thread (getrusage), and peak resident memory.
//
// The embedded broker runs in a child process (broker_process.hpp), so these
// figures are the clients' alone.
#pragma once

namespace corps::bench {

/// Wall and CPU seconds spent between two points.
struct Usage {
  double wall_seconds = 0;
  /// User plus system time of every thread of this process.
  double cpu_seconds = 0;

  Usage& operator+=(const Usage& other) {
    wall_seconds += other.wall_seconds;
    cpu_seconds += other.cpu_seconds;
    return *this;
  }
};

/// Measures from its construction (or the last restart()) to elapsed().
class Meter {
 public:
  Meter() { restart(); }
  void restart();
  [[nodiscard]] Usage elapsed() const;

 private:
  double wall_start_ = 0;
  double cpu_start_ = 0;
};

/// Starts a new peak-memory window: the peak becomes the current resident
/// size (Linux's /proc/self/clear_refs). Returns false where that is not
/// possible; peak_rss_mib() then reports the peak since the process started.
bool reset_peak_rss();

/// The process's peak resident memory, in MiB, since the last reset.
[[nodiscard]] double peak_rss_mib();

/// The process's resident memory now, in MiB.
[[nodiscard]] double current_rss_mib();

}  // namespace corps::bench
