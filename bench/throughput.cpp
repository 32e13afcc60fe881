#include "throughput.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace corps::bench {

namespace {

// What a round may put on one partition: under the embedded broker's 5 MiB,
// with room for record and batch overhead.
constexpr std::size_t partition_budget = std::size_t{4} << 20;
constexpr std::size_t record_overhead = 128;
// How long a consumer may go without a record before the run fails.
constexpr auto silence_limit = std::chrono::seconds(30);

std::size_t round_size(const Payload& payload, int partitions) {
  const std::size_t per_partition =
      std::max<std::size_t>(1, partition_budget / (payload.max_value_bytes() + record_overhead));
  return per_partition * static_cast<std::size_t>(partitions);
}

}  // namespace

proto::Throughput rate_of(std::size_t records, double bytes, const Usage& usage) {
  proto::Throughput out;
  out.set_records(static_cast<std::uint32_t>(records));
  out.set_seconds(usage.wall_seconds);
  if (usage.wall_seconds > 0) {
    out.set_records_per_second(static_cast<double>(records) / usage.wall_seconds);
    out.set_megabytes_per_second(bytes / 1e6 / usage.wall_seconds);
  }
  if (records > 0) out.set_cpu_microseconds_per_record(usage.cpu_seconds * 1e6 / records);
  return out;
}

ThroughputResult measure_throughput(Client& client, Payload& payload, const ThroughputPlan& plan,
                                    Progress& progress) {
  const auto partitions = static_cast<std::size_t>(plan.partitions);
  if (plan.records % partitions != 0)
    throw std::logic_error("the record count must be a multiple of the partition count");
  progress.stage(client.name() + " · " + payload.name() + " · produce, then consume",
                 2 * plan.records);
  auto producer = client.producer(payload, plan.topic);
  std::vector<std::int64_t> start(partitions, 0);
  Usage produce_usage;
  Usage consume_usage;
  double produced_bytes = 0;
  double consumed_bytes = 0;
  std::size_t done = 0;
  for (std::size_t sent = 0; sent < plan.records;) {
    const std::size_t round = std::min(round_size(payload, plan.partitions), plan.records - sent);

    Meter producing;
    for (std::size_t i = sent; i < sent + round; ++i) {
      producer->send(i, static_cast<std::int32_t>(i % partitions), std::nullopt);
      produced_bytes += static_cast<double>(payload.value(i).size());
      progress.update(++done);
    }
    producer->flush();
    produce_usage += producing.elapsed();

    std::vector<std::int64_t> end(partitions);
    for (std::size_t p = 0; p < partitions; ++p) {
      end[p] = producer->end_offset(static_cast<std::int32_t>(p));
      const auto expected = start[p] + static_cast<std::int64_t>(round / partitions);
      if (end[p] != expected) {
        throw std::runtime_error(
            plan.topic + "[" + std::to_string(p) + "] ends at offset " + std::to_string(end[p]) +
            " after this round, not " + std::to_string(expected) +
            ": the broker stored a different number of records than were sent (a retried batch "
            "stored twice?)");
      }
    }

    auto consumer = client.consumer(payload, plan.topic, start, ReadSequence::no);
    std::vector<std::int64_t> next = start;
    Meter consuming;
    std::size_t received = 0;
    auto last_record = std::chrono::steady_clock::now();
    while (received < round) {
      const auto record = consumer->poll(std::chrono::milliseconds(100));
      if (!record) {
        if (std::chrono::steady_clock::now() - last_record > silence_limit) {
          throw std::runtime_error(client.name() + " consumed " + std::to_string(received) +
                                   " of the " + std::to_string(round) + " records sent to " +
                                   plan.topic + ": records were lost");
        }
        continue;
      }
      // Each partition in order, every offset once: nothing skipped or repeated.
      const auto p = static_cast<std::size_t>(record->partition);
      if (p >= partitions || record->offset >= end[p]) {
        throw std::runtime_error(client.name() + " read " + plan.topic + "[" +
                                 std::to_string(record->partition) + "]@" +
                                 std::to_string(record->offset) + ", which was not sent");
      }
      if (record->offset != next[p]) {
        throw std::runtime_error(client.name() + " read " + plan.topic + "[" + std::to_string(p) +
                                 "]@" + std::to_string(record->offset) + " where offset " +
                                 std::to_string(next[p]) + " was due: " +
                                 (record->offset > next[p]
                                      ? "records were lost (the broker no longer had them)"
                                      : "a record came twice"));
      }
      ++next[p];
      last_record = std::chrono::steady_clock::now();
      consumed_bytes += static_cast<double>(record->value_bytes);
      ++received;
      progress.update(++done);
    }
    consume_usage += consuming.elapsed();
    consumer.reset();  // closing is not part of consuming

    start = end;
    sent += round;
  }
  return {rate_of(plan.records, produced_bytes, produce_usage),
          rate_of(plan.records, consumed_bytes, consume_usage)};
}

}  // namespace corps::bench
