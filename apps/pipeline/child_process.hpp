// Child processes for the launcher: started with posix_spawn, stopped with
// SIGTERM (then SIGKILL if they do not stop in time), reaped exactly once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace corps::pipeline {

/// One running program. Stops it on destruction if still running.
class ChildProcess {
 public:
  /// Starts `program` with `arguments` (argv[1..]), inheriting stdout and
  /// stderr. Throws corps::Exception if it cannot be started.
  ChildProcess(std::string name, const std::string& program,
               const std::vector<std::string>& arguments);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;

  /// The name it was started under, e.g. "predict-1".
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  /// Its exit code if it has exited (128+N if killed by signal N).
  [[nodiscard]] std::optional<int> exit_code();
  /// Asks it to stop (SIGTERM) without waiting.
  void terminate();
  /// Sends SIGTERM, waits up to `grace`, then SIGKILL; returns the exit code.
  int stop(std::chrono::milliseconds grace);
  /// Waits up to `timeout` for it to exit by itself.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  std::string name_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  // SIGTERM goes out once: corps programs take a second one as "die now".
  bool terminated_ = false;
};

}  // namespace corps::pipeline
