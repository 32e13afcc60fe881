// The soak's nemesis: a schedule of faults drawn from a seed, and their
// application to the embedded cluster and the member processes. The same
// seed, length and shape give the same schedule, so a failing run can be
// replayed with --seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "members.hpp"

namespace corps::soak {

/// The kinds of fault, as a Jepsen nemesis would inflict them.
enum class Fault {
  kill_consumer,    ///< kill -9 a consumer, start it again after a while
  kill_producer,    ///< kill -9 a producer, start a new one after a while
  broker_down,      ///< a broker stops answering for a while
  move_leader,      ///< a partition's leader moves to another broker
  slow_broker,      ///< a broker answers late for a while
  request_errors,   ///< a broker answers a kind of request with errors
  add_consumer,     ///< a new member joins the group (a rebalance)
  remove_consumer,  ///< a member leaves the group cleanly (a rebalance)
  pause_consumer,   ///< a consumer is stopped (SIGSTOP) for a while, as by a
                    ///< long pause: past its session, the group drops it
};

[[nodiscard]] const char* to_string(Fault fault) noexcept;

/// One scheduled fault. `which` picks a member, broker or partition
/// (modulo how many there are); `lasts` is how long the fault holds.
struct Event {
  std::chrono::milliseconds at;
  Fault fault;
  std::uint32_t which;
  std::uint32_t other;
  std::chrono::milliseconds lasts;
};

/// What the cluster and the members look like.
struct Shape {
  int brokers = 3;
  int partitions = 8;
  int producers = 2;
  int min_consumers = 2;
  int max_consumers = 4;
};

/// The faults of a run of `length`, drawn from `seed`.
[[nodiscard]] std::vector<Event> make_schedule(std::uint64_t seed, std::chrono::seconds length,
                                               const Shape& shape);

/// Applies a schedule's events and undoes them when they have lasted.
class Nemesis {
 public:
  Nemesis(Cluster& cluster, std::string topic, Shape shape, std::vector<Member>& producers,
          std::vector<Member>& consumers);

  /// Applies `event` (at its time); a fault that cannot apply now (the only
  /// consumer, a broker already down) is counted as skipped.
  void apply(const Event& event);
  /// Ends the faults whose time is up, and starts members due again.
  void tick();
  /// Ends every fault now: brokers up and prompt, members started again.
  void heal();
  /// How many of each fault were applied, and skipped.
  [[nodiscard]] std::string summary() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Clock::time_point at;
    enum class Undo { broker_up, broker_prompt, start_consumer, start_producer, resume_consumer } undo;
    int target;
  };

  Cluster& cluster_;
  std::string topic_;
  Shape shape_;
  std::vector<Member>& producers_;
  std::vector<Member>& consumers_;
  std::vector<Pending> pending_;
  std::optional<int> down_broker_;
  std::map<Fault, int> applied_;
  std::map<Fault, int> skipped_;
};

}  // namespace corps::soak
