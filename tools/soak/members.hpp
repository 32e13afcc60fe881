// The soak's members: producer and consumer processes, each this program
// run again with --role, started, killed and restarted by the soak.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace corps::soak {

/// What a member process is.
enum class Role { producer, consumer };

/// One member: a process that can be killed and started again. Each start
/// is a new incarnation with a journal of its own.
class Member {
 public:
  /// `arguments` are this program's, without the incarnation and journal,
  /// which each start adds.
  Member(Role role, int index, std::vector<std::string> arguments, std::string work_dir);
  ~Member();
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;
  Member(Member&&) noexcept;
  Member& operator=(Member&&) noexcept;

  /// Starts a new incarnation. Throws std::runtime_error if it cannot.
  void start();
  /// SIGKILL: no flush, no commit, no goodbye.
  void kill_hard();
  /// SIGTERM (and SIGCONT, should it be paused), then waits up to `grace`
  /// for it to end, then SIGKILL.
  void stop(std::chrono::milliseconds grace);
  /// SIGSTOP: every thread of it stands still, heartbeats included.
  void pause();
  /// SIGCONT, if it still runs.
  void resume();
  /// Reaps the process if it ended; true while it runs.
  bool running();

  [[nodiscard]] Role role() const noexcept { return role_; }
  [[nodiscard]] int index() const noexcept { return index_; }
  [[nodiscard]] std::string name() const;
  /// The journal of every incarnation so far.
  [[nodiscard]] const std::vector<std::string>& journals() const noexcept { return journals_; }
  /// How many times it was started.
  [[nodiscard]] int incarnations() const noexcept { return incarnation_; }

 private:
  Role role_;
  int index_;
  std::vector<std::string> arguments_;
  std::string work_dir_;
  int incarnation_ = 0;
  pid_t pid_ = -1;
  std::vector<std::string> journals_;
};

}  // namespace corps::soak
