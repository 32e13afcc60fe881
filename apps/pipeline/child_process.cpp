#include "child_process.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "corps/error.hpp"

extern char** environ;

namespace corps::pipeline {

ChildProcess::ChildProcess(std::string name, const std::string& program,
                           const std::vector<std::string>& arguments)
    : name_(std::move(name)) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const auto& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const int rc = posix_spawn(&pid_, program.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "cannot start " + name_ + " (" + program + "): " + std::strerror(rc)));
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : name_(std::move(other.name_)),
      pid_(other.pid_),
      exit_code_(other.exit_code_),
      terminated_(other.terminated_) {
  other.pid_ = -1;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code()) stop(std::chrono::seconds(5));
}

std::optional<int> ChildProcess::exit_code() {
  if (exit_code_ || pid_ <= 0) return exit_code_;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return exit_code_;
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return exit_code();
}

void ChildProcess::terminate() {
  if (!exit_code() && !terminated_) kill(pid_, SIGTERM);
  terminated_ = true;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (auto code = exit_code()) return *code;
  terminate();
  if (auto code = wait_for(grace)) return *code;
  kill(pid_, SIGKILL);
  return wait_for(std::chrono::seconds(5)).value_or(-1);
}

}  // namespace corps::pipeline
