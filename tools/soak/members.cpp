#include "members.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace corps::soak {

Member::Member(Role role, int index, std::vector<std::string> arguments, std::string work_dir)
    : role_(role),
      index_(index),
      arguments_(std::move(arguments)),
      work_dir_(std::move(work_dir)) {}

Member::~Member() {
  if (pid_ > 0) kill_hard();
}

Member::Member(Member&& other) noexcept
    : role_(other.role_),
      index_(other.index_),
      arguments_(std::move(other.arguments_)),
      work_dir_(std::move(other.work_dir_)),
      incarnation_(other.incarnation_),
      pid_(other.pid_),
      journals_(std::move(other.journals_)) {
  other.pid_ = -1;
}

Member& Member::operator=(Member&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) kill_hard();
    role_ = other.role_;
    index_ = other.index_;
    arguments_ = std::move(other.arguments_);
    work_dir_ = std::move(other.work_dir_);
    incarnation_ = other.incarnation_;
    pid_ = other.pid_;
    journals_ = std::move(other.journals_);
    other.pid_ = -1;
  }
  return *this;
}

std::string Member::name() const {
  return std::string(role_ == Role::producer ? "producer-" : "consumer-") + std::to_string(index_);
}

void Member::start() {
  if (running()) return;
  const std::string base = work_dir_ + "/" + name() + "." + std::to_string(incarnation_);
  journals_.push_back(base + ".journal");
  std::vector<std::string> argv_storage{"/proc/self/exe"};
  argv_storage.insert(argv_storage.end(), arguments_.begin(), arguments_.end());
  argv_storage.insert(argv_storage.end(), {"--incarnation", std::to_string(incarnation_),
                                           "--journal", journals_.back()});
  std::vector<char*> argv;
  for (auto& argument : argv_storage) argv.push_back(argument.data());
  argv.push_back(nullptr);
  // The member's own log, beside its journal.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, (base + ".log").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  const int failed = posix_spawn(&pid_, "/proc/self/exe", &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (failed != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + name() + ": " + std::strerror(failed));
  }
  ++incarnation_;
}

void Member::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Member::stop(std::chrono::milliseconds grace) {
  if (!running()) return;
  ::kill(pid_, SIGTERM);
  ::kill(pid_, SIGCONT);  // a paused member takes the SIGTERM now
  const auto until = std::chrono::steady_clock::now() + grace;
  while (running() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_hard();
}

void Member::pause() {
  if (running()) ::kill(pid_, SIGSTOP);
}

void Member::resume() {
  if (running()) ::kill(pid_, SIGCONT);
}

bool Member::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t ended = ::waitpid(pid_, &status, WNOHANG);
  if (ended == pid_) pid_ = -1;
  return pid_ > 0;
}

}  // namespace corps::soak
