// ChildProcess and Journal: for tests that kill a consumer with SIGKILL and
// start it again, to show what survives a crash.
//
// ChildProcess runs a function in a forked copy of the test process; the
// function must build its own clients (the parent's client and broker
// threads do not exist in the child) and its return value is the exit code.
// Journal is an append-only file the child writes what it handled to, one
// line per write(2), so every line written before a SIGKILL is kept.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace corps::testing {

/// A forked child running one function. Killed (SIGKILL) and reaped on
/// destruction if still running. Not copyable.
class ChildProcess {
 public:
  /// Forks; the child runs `body` and exits with its result (or 70 if it
  /// throws). Throws corps::Exception if fork fails.
  explicit ChildProcess(std::function<int()> body);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The child's process id.
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// Sends `signal` (SIGKILL by default: no clean-up, no commit).
  void kill(int signal = 9);
  /// Waits up to `timeout` for the child to exit; its exit code (128+N if
  /// killed by signal N), or nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

/// An append-only file of lines that survives the writer's SIGKILL.
class Journal {
 public:
  /// Opens (creating) `path` for appending. Throws corps::Exception.
  explicit Journal(std::string path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  /// Appends `line` and a newline with one write(2).
  void append(std::string_view line);
  /// Every complete line in the file at `path`.
  [[nodiscard]] static std::vector<std::string> read(const std::string& path);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace corps::testing
