#include "roles.hpp"

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "corps/consumer.hpp"
#include "corps/logging.hpp"
#include "corps/prediction.pb.h"
#include "corps/producer.hpp"
#include "corps/shutdown.hpp"
#include "corps/testing/child_process.hpp"

namespace corps::soak {

namespace {

ChannelRegistry registry_for(const std::string& topic) {
  ChannelRegistry registry;
  (void)registry.bind<proto::Prediction>(topic);
  return registry;
}

// Milliseconds of the steady clock, which every process on the machine
// shares (CLOCK_MONOTONIC): the journals' times compare across members.
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const char* persistence_name(Persistence persistence) {
  switch (persistence) {
    case Persistence::not_persisted: return "not_persisted";
    case Persistence::possibly_persisted: return "possibly_persisted";
    case Persistence::persisted: return "persisted";
  }
  return "?";
}

}  // namespace

int run_producer(const MemberOptions& options) {
  install_shutdown_handlers();
  testing::Journal journal(options.journal);
  const ChannelRegistry registry = registry_for(options.topic);
  ProducerOptions producer_options;
  producer_options.brokers = options.brokers;
  producer_options.client_id = "soak-producer-" + std::to_string(options.index);
  producer_options.delivery_timeout = std::chrono::seconds(30);
  producer_options.connect_timeout = std::chrono::seconds(30);
  // One request in flight per connection. With several, librdkafka takes
  // the records of a failed request as written once a later request of the
  // partition succeeds ("implicitly acked", offset unknown): a real broker
  // would have refused that later request as out of sequence, but the
  // embedded broker checks sequence numbers only for transactional
  // producers, appends it, and the earlier records are acknowledged yet
  // never written (seen once in CI: acknowledged at Soak[2]@-1, absent).
  // That is the embedded broker's gap, not corps's; everything else about
  // an idempotent producer is as the library sets it. A real Kafka checks
  // sequences: there the producer keeps librdkafka's default of five.
  if (!options.real_kafka) producer_options.properties["max.in.flight.requests.per.connection"] = "1";
  const std::int64_t base =
      options.index * 1'000'000'000'000LL + options.incarnation * 1'000'000'000LL;
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / options.rate));
  std::int64_t n = 0;
  auto next = std::chrono::steady_clock::now();
  // A producer whose session broke (a fatal error) is replaced; its values
  // were reported failed.
  while (!shutdown_requested()) {
    Producer producer(registry, producer_options);
    while (!shutdown_requested() && !producer.fatal_error()) {
      const std::int64_t value = base + n;
      const std::string key = "p" + std::to_string(options.index) + "i" +
                              std::to_string(options.incarnation) + "k" +
                              std::to_string(n % options.keys);
      ++n;
      proto::Prediction prediction;
      prediction.set_frame(value);
      prediction.set_source(key);
      journal.append("send " + std::to_string(value) + " " + key);
      producer.send(options.topic, prediction, {.key = key},
                    [&journal, value](const DeliveryReport& report) {
                      if (report.ok()) {
                        journal.append("ack " + std::to_string(value) + " " +
                                       std::to_string(report.location().partition) + " " +
                                       std::to_string(report.location().offset));
                      } else {
                        journal.append("fail " + std::to_string(value) + " " +
                                       persistence_name(report.persistence()) + " " +
                                       std::string(to_string(report.error().code())));
                      }
                    });
      next += period;
      std::this_thread::sleep_until(next);
    }
    if (!producer.flush(std::chrono::seconds(40)).ok()) {
      logger()->error("soak producer {}: records still undelivered at the end", options.index);
    }
  }
  return 0;
}

int run_consumer(const MemberOptions& options) {
  testing::Journal journal(options.journal);
  ConsumerOptions consumer_options;
  consumer_options.brokers = options.brokers;
  consumer_options.group_id = options.group;
  consumer_options.client_id = "soak-consumer-" + std::to_string(options.index);
  consumer_options.channels = {options.topic};
  consumer_options.connect_timeout = std::chrono::seconds(30);
  // The embedded broker names a member after its address in memory, and a
  // new member may get the address, and so the id, of one it expired; if
  // the expired member is alive and rejoins meanwhile, the broker aborts
  // (rdkafka_mock_cgrp.c: "Assertion `!member->resp' failed"). A real broker
  // gives every member a fresh id. A live member must so never expire here:
  // a session longer than any outage the nemesis makes (4 s at most), and
  // reconnecting within a second once the broker is back.
  consumer_options.session_timeout = std::chrono::seconds(10);
  consumer_options.properties["heartbeat.interval.ms"] = "500";
  consumer_options.properties["reconnect.backoff.max.ms"] = "1000";
  consumer_options.signals = SignalHandling::stop;
  // Members decode on their own thread, on one worker and on two, so the
  // faults meet each way of decoding (and rebalances move partitions
  // between members decoding differently).
  consumer_options.decode_threads = static_cast<unsigned>(options.index % 3);
  Consumer consumer(registry_for(options.topic), consumer_options);
  // What the group has committed, as this member sees it, journaled as it
  // moves: the checker holds redeliveries to what was not committed yet.
  std::map<std::int32_t, std::int64_t> seen_committed;
  auto next_look = std::chrono::steady_clock::now();
  const auto look_at_commits = [&] {
    if (std::chrono::steady_clock::now() < next_look) return;
    next_look = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
    for (const auto& partition : consumer.assignment()) {
      const auto committed = consumer.committed(partition, std::chrono::milliseconds(500));
      if (!committed.ok() || *committed < 0) continue;
      auto& seen = seen_committed.try_emplace(partition.partition, -1).first->second;
      if (*committed == seen) continue;
      seen = *committed;
      journal.append("committed " + std::to_string(partition.partition) + " " +
                     std::to_string(*committed) + " " + std::to_string(steady_ms()));
    }
  };
  // Each record is journaled when handled; the next poll marks it so, and
  // its offset is committed after: a kill in between redelivers it.
  while (!consumer.stopped()) {
    look_at_commits();
    auto record = consumer.poll(std::chrono::milliseconds(200));
    if (!record) continue;
    if (record->ok()) {
      const auto& prediction = record->as<proto::Prediction>();
      journal.append("got " + std::to_string(prediction.frame()) + " " +
                     std::to_string(record->partition()) + " " + std::to_string(record->offset()) +
                     " " + prediction.source() + " " + std::to_string(steady_ms()));
    } else if (record->error().code() == Errc::records_missing) {
      journal.append("missing " + std::to_string(record->partition()) + " " +
                     std::to_string(record->offset()) + " " + record->error().message());
    } else {
      journal.append("bad " + std::to_string(record->partition()) + " " +
                     std::to_string(record->offset()) + " " + record->error().to_string());
    }
  }
  return consumer.close().ok() ? 0 : 1;
}

}  // namespace corps::soak
