// refuse_if_nothing_listens (see its header).
#include "listening.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "corps/error.hpp"

namespace corps::cli {

namespace {

struct HostPort {
  std::string host;
  std::string port;
};

// "PLAINTEXT://host:9092", "host:9092" or "[::1]:9092"; an empty host for
// what is not of that shape.
HostPort split(std::string_view entry) {
  if (const auto scheme = entry.find("://"); scheme != std::string_view::npos) {
    entry.remove_prefix(scheme + 3);
  }
  const auto colon = entry.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == entry.size()) return {};
  std::string_view host = entry.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {std::string(host), std::string(entry.substr(colon + 1))};
}

enum class Answer { refused, other };

// Closes its descriptor.
struct Socket {
  int fd;
  explicit Socket(int descriptor) : fd(descriptor) {}
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

// Connects to `address` without blocking, waiting at most until `deadline`.
Answer try_connect(const addrinfo& address, std::chrono::steady_clock::time_point deadline) {
  const Socket socket(::socket(
      address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol));
  const int fd = socket.fd;
  if (fd < 0) return Answer::other;
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) return Answer::other;
  if (errno == ECONNREFUSED) return Answer::refused;
  if (errno != EINPROGRESS) return Answer::other;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  pollfd waiting{.fd = fd, .events = POLLOUT, .revents = 0};
  if (::poll(&waiting, 1, static_cast<int>(std::max<std::int64_t>(0, left.count()))) <= 0) {
    return Answer::other;  // no answer in time: slow, perhaps, not absent
  }
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return Answer::other;
  return error == ECONNREFUSED ? Answer::refused : Answer::other;
}

}  // namespace

void refuse_if_nothing_listens(std::string_view bootstrap, std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  std::vector<std::string> refused;
  std::size_t start = 0;
  while (start <= bootstrap.size()) {
    auto end = bootstrap.find(',', start);
    if (end == std::string_view::npos) end = bootstrap.size();
    std::string_view entry = bootstrap.substr(start, end - start);
    start = end + 1;
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    const auto [host, port] = split(entry);
    if (host.empty()) return;  // not host:port: the client says what is wrong
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
      return;  // the Kafka client names the name that does not resolve
    }
    const std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);
    for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
      if (try_connect(*address, deadline) != Answer::refused) return;
    }
    refused.emplace_back(entry);
  }
  if (refused.empty()) return;
  std::string list;
  for (const auto& entry : refused) list += (list.empty() ? "" : ", ") + entry;
  throw Exception(Error(Errc::broker_unreachable, Stage::connect,
                        "nothing listens at " + list +
                            " (connection refused): is the broker running, and at that "
                            "address?",
                        std::nullopt, KafkaError::transport));
}

}  // namespace corps::cli
