// The progress line on stderr: which stage of how many, and how far it got,
// rewritten in place with \r (one line per stage when stderr is not a
// terminal, so logs stay readable).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace corps::bench {

/// Reports progress through a fixed number of stages. Not thread-safe: call
/// it from the thread that does the work being counted.
class Progress {
 public:
  explicit Progress(std::size_t stages);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Starts the next stage, of `total` units of work.
  void stage(const std::string& label, std::size_t total);
  /// `done` units of the current stage are done. Cheap enough to call per
  /// record: it looks at the clock only every few calls and redraws at most
  /// five times a second.
  void update(std::size_t done) {
    if (++calls_ % 64 == 0 || done == total_) redraw(done);
  }
  /// Clears the line (before the results are printed).
  void finish();

 private:
  void redraw(std::size_t done);

  std::size_t stages_;
  std::size_t current_ = 0;
  std::string label_;
  std::size_t total_ = 0;
  std::size_t calls_ = 0;
  std::size_t drawn_width_ = 0;
  bool terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace corps::bench
