#include "nemesis.hpp"

#include <algorithm>
#include <sstream>

namespace corps::soak {

namespace {

using std::chrono::milliseconds;

// Retriable errors a broker may answer each kind of request with; none of
// them may end an idempotent producer's session.
//
// Produce requests get none: an injected error fails one request alone,
// and the embedded broker, which checks no sequence numbers for an
// idempotent producer, would append the next one after it where a real
// broker refuses it (see run_producer). Broker outages, moved leaders and
// slow brokers still fail Produce requests.
struct RequestErrors {
  KafkaApi api;
  std::vector<KafkaError> errors;
};
const std::vector<RequestErrors>& request_errors() {
  static const std::vector<RequestErrors> errors{
      {KafkaApi::fetch, {KafkaError::not_leader_or_follower, KafkaError::request_timed_out}},
      {KafkaApi::offset_commit,
       {KafkaError::rebalance_in_progress, KafkaError::coordinator_not_available,
        KafkaError::not_coordinator}},
      // The members rejoin.
      {KafkaApi::heartbeat, {KafkaError::rebalance_in_progress}},
  };
  return errors;
}

}  // namespace

const char* to_string(Fault fault) noexcept {
  switch (fault) {
    case Fault::kill_consumer: return "kill a consumer";
    case Fault::kill_producer: return "kill a producer";
    case Fault::broker_down: return "broker down";
    case Fault::move_leader: return "move a leader";
    case Fault::slow_broker: return "slow broker";
    case Fault::request_errors: return "request errors";
    case Fault::add_consumer: return "add a consumer";
    case Fault::remove_consumer: return "remove a consumer";
    case Fault::pause_consumer: return "pause a consumer";
  }
  return "?";
}

std::vector<Event> make_schedule(std::uint64_t seed, std::chrono::seconds length,
                                 const Shape& shape) {
  std::mt19937_64 random(seed);
  const auto between = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random);
  };
  static constexpr Fault faults[] = {
      Fault::kill_consumer,   Fault::kill_producer, Fault::broker_down,
      Fault::move_leader,     Fault::slow_broker,   Fault::request_errors,
      Fault::add_consumer,    Fault::remove_consumer, Fault::pause_consumer};
  std::vector<Event> events;
  // A few quiet seconds first, for the group to form; none in the last ones,
  // so the last faults have ended before the producers stop.
  milliseconds at(3000);
  const milliseconds end = std::chrono::duration_cast<milliseconds>(length) - milliseconds(4000);
  for (;;) {
    at += milliseconds(between(500, 3000));
    if (at >= end) break;
    Event event{at, faults[between(0, std::size(faults) - 1)], static_cast<std::uint32_t>(random()),
                static_cast<std::uint32_t>(random()), milliseconds(0)};
    switch (event.fault) {
      case Fault::kill_consumer: event.lasts = milliseconds(between(0, 3000)); break;
      case Fault::kill_producer: event.lasts = milliseconds(between(0, 2000)); break;
      case Fault::broker_down: event.lasts = milliseconds(between(1000, 4000)); break;
      case Fault::slow_broker: event.lasts = milliseconds(between(2000, 6000)); break;
      // Within the consumers' 10 s session, or past it (the group drops the
      // member, which finds out when it runs again).
      case Fault::pause_consumer: event.lasts = milliseconds(between(2000, 14000)); break;
      case Fault::move_leader:
      case Fault::request_errors:
      case Fault::add_consumer:
      case Fault::remove_consumer: break;
    }
    events.push_back(event);
  }
  (void)shape;
  return events;
}

Nemesis::Nemesis(Cluster& cluster, std::string topic, Shape shape, std::vector<Member>& producers,
                 std::vector<Member>& consumers)
    : cluster_(cluster),
      topic_(std::move(topic)),
      shape_(shape),
      producers_(producers),
      consumers_(consumers) {}

void Nemesis::apply(const Event& event) {
  const auto now = Clock::now();
  const auto running = [](std::vector<Member>& members) {
    std::vector<int> out;
    for (auto& member : members) {
      if (member.running()) out.push_back(member.index());
    }
    return out;
  };
  const auto skip = [&] { ++skipped_[event.fault]; };
  // Does `act` to a running member the event picks, and `undo` to it when
  // the fault has lasted; skipped if none runs.
  const auto on_running = [&](std::vector<Member>& members, void (Member::*act)(),
                              Pending::Undo undo) {
    const auto live = running(members);
    if (live.empty()) return skip();
    const int target = live[event.which % live.size()];
    (members[static_cast<std::size_t>(target)].*act)();
    pending_.push_back({now + event.lasts, undo, target});
    ++applied_[event.fault];
  };
  switch (event.fault) {
    case Fault::kill_consumer:
      return on_running(consumers_, &Member::kill_hard, Pending::Undo::start_consumer);
    case Fault::kill_producer:
      return on_running(producers_, &Member::kill_hard, Pending::Undo::start_producer);
    case Fault::pause_consumer:
      return on_running(consumers_, &Member::pause, Pending::Undo::resume_consumer);
    case Fault::broker_down: {
      if (down_broker_) return skip();  // one at a time: the others lead meanwhile
      const int broker = 1 + static_cast<int>(event.which % static_cast<unsigned>(shape_.brokers));
      cluster_.set_broker_down(broker);
      down_broker_ = broker;
      pending_.push_back({now + event.lasts, Pending::Undo::broker_up, broker});
      break;
    }
    case Fault::move_leader: {
      const int partition =
          static_cast<int>(event.which % static_cast<unsigned>(shape_.partitions));
      const int broker = 1 + static_cast<int>(event.other % static_cast<unsigned>(shape_.brokers));
      cluster_.set_partition_leader(topic_, partition, broker);
      break;
    }
    case Fault::slow_broker: {
      const int broker = 1 + static_cast<int>(event.which % static_cast<unsigned>(shape_.brokers));
      cluster_.set_round_trip_time(broker, milliseconds(100 + event.other % 700));
      pending_.push_back({now + event.lasts, Pending::Undo::broker_prompt, broker});
      break;
    }
    case Fault::request_errors: {
      const auto& kind = request_errors()[event.which % request_errors().size()];
      std::vector<KafkaError> errors;
      for (unsigned i = 0; i < 1 + event.other % 5; ++i) {
        errors.push_back(kind.errors[(event.other / 5 + i) % kind.errors.size()]);
      }
      cluster_.push_request_errors(kind.api, errors);
      break;
    }
    case Fault::add_consumer: {
      auto stopped = std::find_if(consumers_.begin(), consumers_.end(),
                                  [](Member& member) { return !member.running(); });
      const bool pending_start = std::any_of(pending_.begin(), pending_.end(), [&](const auto& p) {
        return p.undo == Pending::Undo::start_consumer && stopped != consumers_.end() &&
               p.target == stopped->index();
      });
      if (stopped == consumers_.end() || pending_start) return skip();
      stopped->start();
      break;
    }
    case Fault::remove_consumer: {
      const auto live = running(consumers_);
      if (static_cast<int>(live.size()) <= shape_.min_consumers) return skip();
      consumers_[static_cast<std::size_t>(live[event.which % live.size()])].stop(
          std::chrono::seconds(15));
      break;
    }
  }
  ++applied_[event.fault];
}

void Nemesis::tick() {
  const auto now = Clock::now();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->at > now) {
      ++it;
      continue;
    }
    switch (it->undo) {
      case Pending::Undo::broker_up:
        cluster_.set_broker_up(it->target);
        down_broker_.reset();
        break;
      case Pending::Undo::broker_prompt:
        cluster_.set_round_trip_time(it->target, milliseconds(0));
        break;
      case Pending::Undo::start_consumer:
        consumers_[static_cast<std::size_t>(it->target)].start();
        break;
      case Pending::Undo::start_producer:
        producers_[static_cast<std::size_t>(it->target)].start();
        break;
      case Pending::Undo::resume_consumer:
        consumers_[static_cast<std::size_t>(it->target)].resume();
        break;
    }
    it = pending_.erase(it);
  }
}

void Nemesis::heal() {
  for (auto& pending : pending_) pending.at = Clock::now();
  tick();
  for (int broker = 1; broker <= shape_.brokers; ++broker) {
    cluster_.set_broker_up(broker);
    cluster_.set_round_trip_time(broker, milliseconds(0));
  }
  down_broker_.reset();
}

std::string Nemesis::summary() const {
  std::ostringstream out;
  bool first = true;
  for (const auto& [fault, count] : applied_) {
    out << (first ? "" : ", ") << to_string(fault) << " " << count;
    first = false;
  }
  int skipped = 0;
  for (const auto& [fault, count] : skipped_) skipped += count;
  out << (first ? "" : "; ") << skipped << " skipped (nothing to apply them to)";
  return out.str();
}

}  // namespace corps::soak
