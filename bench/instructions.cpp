#include "instructions.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "codec_only.hpp"
#include "corps/message_handler.hpp"
#include "corps/message_loader.hpp"
#include "report.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define CORPS_BENCH_HAVE_CALLGRIND 1
#else
#define CORPS_BENCH_HAVE_CALLGRIND 0
#endif

namespace corps::bench {

namespace {

// How long a consumer may go without a record before the run fails (the
// process runs some fifty times slower under valgrind).
constexpr auto silence_limit = std::chrono::seconds(120);

// What is between these two calls is one phase's count.
void start_phase() {
#if CORPS_BENCH_HAVE_CALLGRIND
  CALLGRIND_ZERO_STATS;
#endif
}

void end_phase(const std::string& payload, const std::string& client, const std::string& phase,
               std::size_t records) {
  // The dump's name carries what read_phase_counts needs; '|' is in none
  // of the parts.
  const std::string name = payload + "|" + client + "|" + phase + "|" + std::to_string(records);
#if CORPS_BENCH_HAVE_CALLGRIND
  CALLGRIND_DUMP_STATS_AT(name.c_str());
#else
  (void)name;
#endif
}

void produce_all(Client& client, Payload& payload, const std::string& topic, int partitions,
                 std::size_t records) {
  start_phase();
  {
    auto producer = client.producer(payload, topic);
    for (std::size_t i = 0; i < records; ++i) {
      producer->send(i, static_cast<std::int32_t>(i % static_cast<std::size_t>(partitions)),
                     std::nullopt);
    }
    producer->flush();
  }
  end_phase(payload.name(), client.name(), "produce", records);
}

void consume_all(Client& client, Payload& payload, const std::string& topic, int partitions,
                 std::size_t records) {
  const std::int64_t per_partition =
      static_cast<std::int64_t>(records / static_cast<std::size_t>(partitions));
  std::vector<std::int64_t> next(static_cast<std::size_t>(partitions), 0);
  start_phase();
  {
    auto consumer = client.consumer(payload, topic, next, ReadSequence::no);
    auto last_record = std::chrono::steady_clock::now();
    for (std::size_t received = 0; received < records;) {
      const auto record = consumer->poll(std::chrono::milliseconds(100));
      if (!record) {
        if (std::chrono::steady_clock::now() - last_record > silence_limit) {
          throw std::runtime_error(client.name() + " consumed " + std::to_string(received) +
                                   " of the " + std::to_string(records) + " records sent to " +
                                   topic + ": records were lost");
        }
        continue;
      }
      // Each partition in order, every offset once.
      auto& due = next.at(static_cast<std::size_t>(record->partition));
      if (record->offset != due || record->offset >= per_partition) {
        throw std::runtime_error(
            client.name() + " read " + topic + "[" + std::to_string(record->partition) + "]@" +
            std::to_string(record->offset) + " where offset " + std::to_string(due) + " was due");
      }
      ++due;
      ++received;
      last_record = std::chrono::steady_clock::now();
    }
    // Closing is not consuming: the consumer goes after the count.
    end_phase(payload.name(), client.name(), "consume", records);
  }
}

void encode_and_load(Payload& payload, std::size_t records) {
  const ChannelRegistry registry = payload.registry(codec_channel);
  MessageHandler handler(registry, payload.handler_options());
  if (payload.schemas()) {
    handler.use_schema_id(codec_channel, registry.at(codec_channel).type(), payload.schema_id());
  }
  start_phase();
  for (std::size_t i = 0; i < records; ++i) {
    auto value = handler.encode(codec_channel, payload.fresh(i));
    if (!value.ok()) throw std::runtime_error("encode: " + value.error().to_string());
  }
  end_phase(payload.name(), codec_client, "encode", records);

  MessageLoader loader(registry);
  SampleLoader samples(payload, loader);
  start_phase();
  for (std::size_t i = 0; i < records; ++i) (void)samples.load(i);
  end_phase(payload.name(), codec_client, "load", records);
}

}  // namespace

bool can_count_instructions() noexcept {
  return CORPS_BENCH_HAVE_CALLGRIND != 0;
}

bool under_valgrind() noexcept {
#if CORPS_BENCH_HAVE_CALLGRIND
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}

void count_phases(Client& raw, Client& corps, std::vector<Payload>& payloads, int partitions,
                  const std::function<std::size_t(const Payload&)>& records_of,
                  const std::function<std::string(const Payload&, const std::string&)>& topic_of) {
  for (auto& payload : payloads) {
    const std::size_t records = records_of(payload);
    for (Client* client : {&raw, &corps}) {
      const std::string topic = topic_of(payload, client->name());
      produce_all(*client, payload, topic, partitions, records);
      consume_all(*client, payload, topic, partitions, records);
    }
    encode_and_load(payload, records);
  }
}

int run_under_callgrind(const std::vector<std::string>& arguments, const std::string& directory) {
  std::vector<std::string> command{"valgrind", "--tool=callgrind", "--quiet",
                                   // One count for the whole process: librdkafka's threads fetch
                                   // and parse for the client, and are part of its cost.
                                   "--separate-threads=no",
                                   "--callgrind-out-file=" + directory + "/callgrind.out.%p"};
  command.insert(command.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (auto& part : command) argv.push_back(part.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::execvp(argv[0], argv.data());
    const std::string why = std::string("corps_bench: cannot run valgrind (") +
                            std::strerror(errno) +
                            "); --instructions needs it: apt-get install valgrind\n";
    (void)!::write(2, why.data(), why.size());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::vector<PhaseCount> read_phase_counts(const std::string& directory) {
  std::map<int, PhaseCount> by_part;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    std::ifstream in(entry.path());
    std::string line;
    std::string trigger;
    int part = 0;
    std::uint64_t totals = 0;
    std::uint64_t summary = 0;
    constexpr std::string_view trigger_prefix = "desc: Trigger: Client Request: ";
    while (std::getline(in, line)) {
      if (line.starts_with(trigger_prefix)) trigger = line.substr(trigger_prefix.size());
      if (line.starts_with("part: ")) part = std::stoi(line.substr(6));
      if (line.starts_with("totals: ")) totals = std::stoull(line.substr(8));
      if (line.starts_with("summary: ")) summary = std::stoull(line.substr(9));
    }
    std::vector<std::string> fields;
    std::stringstream split(trigger);
    for (std::string field; std::getline(split, field, '|');) fields.push_back(field);
    if (fields.size() != 4) continue;  // the dump at exit, or another's
    by_part[part] = PhaseCount{fields[0], fields[1], fields[2],
                               static_cast<std::size_t>(std::stoull(fields[3])),
                               totals != 0 ? totals : summary};
  }
  std::vector<PhaseCount> counts;
  for (auto& [part, count] : by_part) counts.push_back(std::move(count));
  return counts;
}

void print_instruction_table(const std::vector<PhaseCount>& counts, const std::string& setup,
                             std::ostream& out) {
  const auto per_record = [](const PhaseCount& count) {
    return count.records == 0
               ? 0.0
               : static_cast<double>(count.instructions) / static_cast<double>(count.records);
  };
  const auto find = [&](const std::string& payload, const std::string& client,
                        const std::string& phase) -> const PhaseCount* {
    for (const auto& count : counts) {
      if (count.payload == payload && count.client == client && count.phase == phase) return &count;
    }
    return nullptr;
  };
  out << "### Instructions per record (valgrind --tool=callgrind)\n\n"
      << setup << "\n\n"
      << "| payload | client | phase | records | instructions | per record |\n"
      << "|---|---|---|---:|---:|---:|\n";
  std::vector<std::string> payloads;
  for (const auto& count : counts) {
    out << "| " << count.payload << " | " << count.client << " | " << count.phase << " | "
        << count.records << " | " << count.instructions << " | " << std::fixed
        << std::setprecision(0) << per_record(count) << " |\n";
    if (std::find(payloads.begin(), payloads.end(), count.payload) == payloads.end())
      payloads.push_back(count.payload);
  }
  out << "\n| payload | way | corps / raw | corps / (raw + codec) |\n|---|---|---:|---:|\n";
  for (const auto& payload : payloads) {
    for (const auto& [way, codec_phase] :
         {std::pair<std::string, std::string>{"produce", "encode"}, {"consume", "load"}}) {
      const auto* raw = find(payload, raw_client, way);
      const auto* corps = find(payload, corps_client, way);
      const auto* codec = find(payload, codec_client, codec_phase);
      if (raw == nullptr || corps == nullptr || codec == nullptr) continue;
      const double floor = per_record(*raw) + per_record(*codec);
      out << "| " << payload << " | " << way << " | " << std::setprecision(2)
          << per_record(*corps) / per_record(*raw) << "× | " << per_record(*corps) / floor
          << "× |\n";
    }
  }
  out << "\ncorps / (raw + codec) is corps's own cost: 1.00× would be a typed client that "
         "costs nothing beyond librdkafka and the codec.\n";
}

}  // namespace corps::bench
