// The soak's cluster: what the nemesis does to brokers. Two kinds: the
// embedded broker in a process of its own (EmbeddedCluster), whose faults
// are librdkafka's mock's (a broker stops answering, answers late, answers
// with errors, a leader moves), and a real Apache Kafka cluster run by
// scripts/kafka.sh (KafkaCluster, kafka_cluster.hpp), whose faults are
// real (kill -9 and start again, SIGSTOP, cut off the network, a clean
// restart, a leader moved by Kafka's own tools).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "corps/broker.hpp"

namespace corps::soak {

/// The kinds of fault, as a Jepsen nemesis would inflict them.
enum class Fault {
  kill_consumer,    ///< kill -9 a consumer, start it again after a while
  kill_producer,    ///< kill -9 a producer, start a new one after a while
  broker_down,      ///< (embedded) a broker stops answering for a while
  move_leader,      ///< a partition's leader moves to another broker
  slow_broker,      ///< (embedded) a broker answers late for a while
  request_errors,   ///< (embedded) a broker answers a kind of request with errors
  add_consumer,     ///< a new member joins the group (a rebalance)
  remove_consumer,  ///< a member leaves the group cleanly (a rebalance)
  pause_consumer,   ///< a consumer is stopped (SIGSTOP) for a while, as by a
                    ///< long pause: past its session, the group drops it
  kill_broker,      ///< (Kafka) kill -9 a broker, start it again after a while
  pause_broker,     ///< (Kafka) SIGSTOP a broker for a while: past its
                    ///< session, the controller fences it
  isolate_broker,   ///< (Kafka, as root) cut a broker off the network for a while
  restart_broker,   ///< (Kafka) stop a broker cleanly and start it again: its
                    ///< leaders move away
};

[[nodiscard]] const char* to_string(Fault fault) noexcept;

/// A cluster the nemesis can hurt.
class Cluster {
 public:
  virtual ~Cluster() = default;

  [[nodiscard]] virtual const std::string& bootstrap_servers() const noexcept = 0;
  /// How many brokers (ids 1..brokers()).
  [[nodiscard]] virtual int brokers() const noexcept = 0;
  /// The broker faults it can take; the members' faults are the nemesis's.
  [[nodiscard]] virtual std::vector<Fault> broker_faults() const = 0;
  /// Whether a broker fault that takes a broker out (down, killed, paused,
  /// cut off, restarting) may start now: none is under way, and none is
  /// still recovering.
  [[nodiscard]] virtual bool settled() = 0;
  /// Starts a broker fault on `broker`; `detail` picks what the fault needs
  /// besides (a partition, a delay). False if it could not start now.
  virtual bool start(Fault fault, int broker, std::uint32_t detail) = 0;
  /// Ends a fault start() began and that lasts (down, slow, killed, paused,
  /// cut off).
  virtual void end(Fault fault, int broker) = 0;
  /// Ends every fault and waits until every broker answers again.
  virtual void heal() = 0;
  /// False once the cluster ended apart from the nemesis (the embedded
  /// broker's process crashed, a Kafka node stopped by itself); `why` then
  /// says how.
  virtual bool alive(std::string& why) = 0;
  /// The journals and logs to look at after a failed run.
  [[nodiscard]] virtual std::string logs() const = 0;
};

/// The embedded broker in a process of its own (this program run with
/// --role broker), driven through a pipe. A process apart, so that a crash
/// of the embedded broker itself (librdkafka's mock asserts on some group
/// request sequences) is seen as that, not taken for a verdict on corps,
/// and leaves no member behind.
class EmbeddedCluster : public Cluster {
 public:
  /// Starts `brokers` brokers with `topic` of `partitions` partitions, each
  /// on every broker. Throws std::runtime_error if it cannot.
  EmbeddedCluster(int brokers, const std::string& topic, int partitions,
                  const std::string& work_dir);
  ~EmbeddedCluster() override;
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  [[nodiscard]] const std::string& bootstrap_servers() const noexcept override {
    return bootstrap_;
  }
  [[nodiscard]] int brokers() const noexcept override { return brokers_; }
  [[nodiscard]] std::vector<Fault> broker_faults() const override;
  [[nodiscard]] bool settled() override { return true; }
  bool start(Fault fault, int broker, std::uint32_t detail) override;
  void end(Fault fault, int broker) override;
  void heal() override;
  bool alive(std::string& why) override;
  [[nodiscard]] std::string logs() const override { return log_; }

 private:
  void command(const std::string& line);

  int brokers_;
  std::string topic_;
  int partitions_;
  pid_t pid_ = -1;
  int commands_ = -1;  // the write end of the broker's stdin
  std::string bootstrap_;
  std::string log_;
};

/// The embedded broker process's side: runs the cluster and applies the
/// commands read from stdin until it closes.
int run_broker(int brokers, const std::string& topic, int partitions,
               const std::string& address_file);

}  // namespace corps::soak
