#include "broker_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <stdexcept>

namespace corps::bench {

namespace {

void write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

std::string read_line(int fd) {
  std::string line;
  char c = 0;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return line;
    line += c;
  }
}

[[noreturn]] void run_child(const std::vector<TopicSpec>& topics, int address_fd, int stop_fd,
                            pid_t parent) {
  // Dies with the benchmark, whatever way it ends.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);
  int status = 0;
  try {
    EmbeddedBroker broker(EmbeddedBrokerOptions{.broker_count = 1, .topics = topics});
    write_all(address_fd, broker.bootstrap_servers() + "\n");
    ::close(address_fd);
    char byte = 0;
    while (::read(stop_fd, &byte, 1) < 0 && errno == EINTR) {
    }
  } catch (const std::exception& e) {
    write_all(address_fd, std::string("!") + e.what() + "\n");
    status = 1;
  }
  ::_exit(status);  // no atexit handlers or stdio flushes of the parent's state
}

}  // namespace

BrokerProcess::BrokerProcess(const std::vector<TopicSpec>& topics) {
  int address[2];
  int stop[2];
  if (::pipe2(address, O_CLOEXEC) != 0 || ::pipe2(stop, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::close(address[0]);
    ::close(stop[1]);
    run_child(topics, address[1], stop[0], parent);
  }
  ::close(address[1]);
  ::close(stop[0]);
  stop_fd_ = stop[1];
  const std::string line = read_line(address[0]);
  ::close(address[0]);
  if (line.empty() || line.front() == '!') {
    ::close(stop_fd_);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("the embedded broker did not start" +
                             (line.empty() ? std::string() : ": " + line.substr(1)));
  }
  bootstrap_ = line;
}

BrokerProcess::~BrokerProcess() {
  ::close(stop_fd_);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace corps::bench
