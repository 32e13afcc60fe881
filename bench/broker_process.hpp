// The embedded broker in a child process. getrusage and the peak resident
// size are per process, so with the broker outside, the CPU and memory the
// benchmark reports are the clients' alone (on a 2-core machine the broker
// still competes with them for the cores, as a local Kafka would).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "corps/broker.hpp"

namespace corps::bench {

/// An EmbeddedBroker running in a child process for the lifetime of this
/// object. Not copyable or movable.
class BrokerProcess {
 public:
  /// Forks a child that runs an embedded broker with `topics`, and waits for
  /// its address. Call it before this process starts any thread: a fork
  /// copies only the calling thread. Throws std::runtime_error if the broker
  /// does not start.
  explicit BrokerProcess(const std::vector<TopicSpec>& topics);
  /// Stops the broker and waits for the child to end.
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  /// "127.0.0.1:PORT".
  [[nodiscard]] const std::string& bootstrap_servers() const noexcept { return bootstrap_; }

 private:
  pid_t pid_ = -1;
  // The child runs until this pipe closes: here, or when this process dies.
  int stop_fd_ = -1;
  std::string bootstrap_;
};

}  // namespace corps::bench
