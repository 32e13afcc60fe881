// Instructions per record: a measure the other core cannot move.
//
// Wall-clock and CPU-time ratios on a shared 2-core machine move with
// whatever else runs; the number of instructions a fixed run executes does
// not (to a fraction of a percent: librdkafka's threads wait on timers, and
// idle wake-ups vary a little). `corps_bench --instructions` runs each
// phase once (raw librdkafka, the codec alone, and corps; produce, then
// consume) on a fixed number of records, under valgrind's callgrind, which
// counts the instructions of every thread of the process. Each phase sits
// between a reset and a dump of the counts (callgrind's client requests),
// so the table reads one dump per phase.
//
// The run is two processes: this one starts the embedded broker (so its
// instructions are not counted, and it runs at full speed) and runs itself
// again under valgrind, which measures; then reads valgrind's dumps and
// prints the table. With --brokers the broker is the user's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "client.hpp"
#include "payloads.hpp"

namespace corps::bench {

/// One phase as callgrind counted it.
struct PhaseCount {
  std::string payload;  // "small" or "frame"
  std::string client;   // raw librdkafka, codec only, corps
  std::string phase;    // produce or consume (encode or load for the codec)
  std::size_t records = 0;
  std::uint64_t instructions = 0;
};

/// Whether this build can count (valgrind's callgrind.h was found).
[[nodiscard]] bool can_count_instructions() noexcept;

/// Whether this process runs under valgrind.
[[nodiscard]] bool under_valgrind() noexcept;

/// Runs under valgrind: each payload's phases through `raw`, the codec alone
/// and `corps`, `records_of(payload)` records each, to the topic
/// `topic_of(payload, client name)` with `partitions` partitions (empty, one
/// per client and payload). Throws std::runtime_error if a record is lost.
void count_phases(Client& raw, Client& corps, std::vector<Payload>& payloads, int partitions,
                  const std::function<std::size_t(const Payload&)>& records_of,
                  const std::function<std::string(const Payload&, const std::string&)>& topic_of);

/// Runs `arguments` (this program, and what it was given) under callgrind,
/// its dumps in `directory`; returns its exit status. Throws
/// std::runtime_error if valgrind cannot be run.
int run_under_callgrind(const std::vector<std::string>& arguments, const std::string& directory);

/// The phases callgrind dumped into `directory`, in the order they ran.
[[nodiscard]] std::vector<PhaseCount> read_phase_counts(const std::string& directory);

/// The table: instructions per record of each phase, and corps against raw
/// librdkafka plus the codec (what a typed client cannot avoid).
void print_instruction_table(const std::vector<PhaseCount>& counts, const std::string& setup,
                             std::ostream& out);

}  // namespace corps::bench
