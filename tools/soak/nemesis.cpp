#include "nemesis.hpp"

#include <algorithm>
#include <sstream>

namespace corps::soak {

namespace {

using std::chrono::milliseconds;

// Faults that take a broker out: one at a time, so the others lead
// meanwhile and every write still finds its min.insync.replicas.
bool takes_a_broker_out(Fault fault) {
  switch (fault) {
    case Fault::broker_down:
    case Fault::kill_broker:
    case Fault::pause_broker:
    case Fault::isolate_broker:
    case Fault::restart_broker: return true;
    case Fault::kill_consumer:
    case Fault::kill_producer:
    case Fault::move_leader:
    case Fault::slow_broker:
    case Fault::request_errors:
    case Fault::add_consumer:
    case Fault::remove_consumer:
    case Fault::pause_consumer: return false;
  }
  return false;
}

bool is_broker_fault(Fault fault) {
  switch (fault) {
    case Fault::kill_consumer:
    case Fault::kill_producer:
    case Fault::add_consumer:
    case Fault::remove_consumer:
    case Fault::pause_consumer: return false;
    case Fault::broker_down:
    case Fault::move_leader:
    case Fault::slow_broker:
    case Fault::request_errors:
    case Fault::kill_broker:
    case Fault::pause_broker:
    case Fault::isolate_broker:
    case Fault::restart_broker: return true;
  }
  return false;
}

}  // namespace

std::vector<Fault> faults_for(const Cluster& cluster) {
  // In this order, so the embedded cluster's schedules are those its seeds
  // always gave.
  std::vector<Fault> faults{Fault::kill_consumer, Fault::kill_producer};
  for (const Fault fault : cluster.broker_faults()) faults.push_back(fault);
  faults.insert(faults.end(), {Fault::add_consumer, Fault::remove_consumer, Fault::pause_consumer});
  return faults;
}

std::vector<Event> make_schedule(std::uint64_t seed, std::chrono::seconds length,
                                 const std::vector<Fault>& faults) {
  std::mt19937_64 random(seed);
  const auto between = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random);
  };
  std::vector<Event> events;
  // A few quiet seconds first, for the group to form; none in the last ones,
  // so the last faults have ended before the producers stop.
  milliseconds at(3000);
  const milliseconds end = std::chrono::duration_cast<milliseconds>(length) - milliseconds(4000);
  for (;;) {
    at += milliseconds(between(500, 3000));
    if (at >= end) break;
    Event event{at, faults[static_cast<std::size_t>(between(0, static_cast<int>(faults.size()) - 1))],
                static_cast<std::uint32_t>(random()), static_cast<std::uint32_t>(random()),
                milliseconds(0)};
    switch (event.fault) {
      case Fault::kill_consumer: event.lasts = milliseconds(between(0, 3000)); break;
      case Fault::kill_producer: event.lasts = milliseconds(between(0, 2000)); break;
      case Fault::broker_down: event.lasts = milliseconds(between(1000, 4000)); break;
      case Fault::slow_broker: event.lasts = milliseconds(between(2000, 6000)); break;
      // Within the consumers' 10 s session, or past it (the group drops the
      // member, which finds out when it runs again).
      case Fault::pause_consumer: event.lasts = milliseconds(between(2000, 14000)); break;
      // A broker killed comes back after this, then takes its seconds to
      // start and catch up.
      case Fault::kill_broker: event.lasts = milliseconds(between(1000, 8000)); break;
      // Within a broker's 9 s session with the controller, or past it (the
      // controller fences it and its partitions lead elsewhere).
      case Fault::pause_broker: event.lasts = milliseconds(between(2000, 14000)); break;
      case Fault::isolate_broker: event.lasts = milliseconds(between(3000, 15000)); break;
      case Fault::move_leader:
      case Fault::request_errors:
      case Fault::add_consumer:
      case Fault::remove_consumer:
      case Fault::restart_broker: break;
    }
    events.push_back(event);
  }
  return events;
}

Nemesis::Nemesis(Cluster& cluster, std::string topic, Shape shape, std::vector<Member>& producers,
                 std::vector<Member>& consumers)
    : cluster_(cluster),
      topic_(std::move(topic)),
      shape_(shape),
      producers_(producers),
      consumers_(consumers) {}

void Nemesis::apply_to_broker(const Event& event) {
  const bool takes_out = takes_a_broker_out(event.fault);
  if (takes_out && (down_broker_ || !cluster_.settled())) {
    ++skipped_[event.fault];
    return;
  }
  const int broker =
      1 + static_cast<int>(event.which % static_cast<unsigned>(cluster_.brokers()));
  if (!cluster_.start(event.fault, broker, event.other)) {
    ++skipped_[event.fault];
    return;
  }
  ++applied_[event.fault];
  if (event.lasts > milliseconds(0)) {
    pending_.push_back(
        {Clock::now() + event.lasts, Pending::Undo::end_broker_fault, broker, event.fault});
    if (takes_out) down_broker_ = broker;
  }
}

void Nemesis::apply(const Event& event) {
  if (is_broker_fault(event.fault)) return apply_to_broker(event);
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
    pending_.push_back({now + event.lasts, undo, target, event.fault});
    ++applied_[event.fault];
  };
  switch (event.fault) {
    case Fault::kill_consumer:
      return on_running(consumers_, &Member::kill_hard, Pending::Undo::start_consumer);
    case Fault::kill_producer:
      return on_running(producers_, &Member::kill_hard, Pending::Undo::start_producer);
    case Fault::pause_consumer:
      return on_running(consumers_, &Member::pause, Pending::Undo::resume_consumer);
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
    case Fault::broker_down:
    case Fault::move_leader:
    case Fault::slow_broker:
    case Fault::request_errors:
    case Fault::kill_broker:
    case Fault::pause_broker:
    case Fault::isolate_broker:
    case Fault::restart_broker: return;  // apply_to_broker's
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
      case Pending::Undo::end_broker_fault:
        cluster_.end(it->fault, it->target);
        if (takes_a_broker_out(it->fault)) down_broker_.reset();
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
  cluster_.heal();
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
  out << (first ? "" : "; ") << skipped
      << " skipped (nothing to apply them to, or a broker still out or coming back)";
  return out.str();
}

}  // namespace corps::soak
