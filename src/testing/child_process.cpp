#include "corps/testing/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "corps/error.hpp"

namespace corps::testing {

namespace {

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(std::function<int()> body) {
  pid_ = ::fork();
  if (pid_ < 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          std::string("cannot fork a child process: ") + std::strerror(errno)));
  }
  if (pid_ == 0) {
    int code = 70;
    try {
      code = body();
    } catch (...) {
    }
    // _exit: the parent's atexit handlers and static destructors (its
    // broker, its clients) are not the child's to run.
    ::_exit(code);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    kill();
    (void)wait_for(std::chrono::seconds(10));
  }
}

void ChildProcess::kill(int signal) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_code_) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = exit_code_of(status);
      break;
    }
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

Journal::Journal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "cannot open journal '" + path_ + "': " + std::strerror(errno)));
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(std::string_view line) {
  std::string buffer(line);
  buffer += '\n';
  // One write per line: the kernel keeps it whole even if we die next.
  if (::write(fd_, buffer.data(), buffer.size()) != static_cast<ssize_t>(buffer.size())) {
    throw Exception(Error(Errc::invalid_argument, Stage::handler,
                          "cannot append to journal '" + path_ + "': " + std::strerror(errno)));
  }
}

std::vector<std::string> Journal::read(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0;
  for (std::size_t end; (end = content.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(content.substr(start, end - start));
  }
  return lines;
}

}  // namespace corps::testing
