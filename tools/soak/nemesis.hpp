// The soak's nemesis: a schedule of faults drawn from a seed, and their
// application to the cluster (embedded or real, cluster.hpp) and the member
// processes. The same seed, length, shape and kind of cluster give the same
// schedule, so a failing run can be replayed with --seed.
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

/// The faults a run on `cluster` draws from: the members' and the cluster's.
[[nodiscard]] std::vector<Fault> faults_for(const Cluster& cluster);

/// The faults of a run of `length`, drawn from `seed` among `faults`.
[[nodiscard]] std::vector<Event> make_schedule(std::uint64_t seed, std::chrono::seconds length,
                                               const std::vector<Fault>& faults);

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
    enum class Undo { end_broker_fault, start_consumer, start_producer, resume_consumer } undo;
    int target;
    Fault fault;
  };
  void apply_to_broker(const Event& event);

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
