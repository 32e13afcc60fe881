// corps-soak: a randomized fault soak of corps, in the manner of Jepsen's
// queue workload, on the embedded broker or on a real Apache Kafka.
//
// Producer and consumer processes (this program run again with --role) send
// and consume numbered values in one consumer group, while a nemesis drawn
// from a seed kills and restarts them, pauses them, adds and removes
// members, and hurts the brokers: on a multi-broker embedded cluster it
// takes brokers down, moves leaders, slows brokers and injects request
// errors; on a real cluster run by scripts/kafka.sh (--kafka NAME) it
// kill -9's and restarts brokers, pauses them (SIGSTOP), cuts one off the
// network (as root), restarts one cleanly and moves leaders with Kafka's
// own tools, on a topic of replication factor 3 and min.insync.replicas 2.
// Then the faults end, the producers stop, the consumers read everything,
// and the whole history is judged: every acknowledged value consumed at
// least once, nothing phantom, each key's values in send order, no value at
// two offsets (on Kafka, whose idempotent producer de-duplicates), and
// redeliveries no more than what the group had not committed. It prints the
// counts and the seed, and exits 1 on any violation; --seed replays a run's
// schedule.
//
//   corps-soak [--seconds N] [--seed S] [--producers N] [--consumers MIN:MAX]
//              [--brokers N] [--partitions N] [--rate R] [--work-dir DIR]
//              [--kafka NAME [--kafka-script scripts/kafka.sh]] [--print-schedule]
//
// Exit codes: 0 the history holds; 1 it does not (lost, phantom, reordered,
// duplicated, redelivered past a commit, or undecodable values); 2 bad usage
// or the soak could not run; 77 the cluster itself ended apart from the
// nemesis (the embedded broker's process crashed, a Kafka node stopped by
// itself), so no verdict could be reached: its log says why.
#include <sys/prctl.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "cluster.hpp"
#include "corps/logging.hpp"
#include "kafka_cluster.hpp"
#include "corps/shutdown.hpp"
#include "history.hpp"
#include "members.hpp"
#include "nemesis.hpp"
#include "roles.hpp"

namespace {

using namespace corps::soak;
using Clock = std::chrono::steady_clock;

constexpr const char* topic = "Soak";
// Exit code when the embedded broker crashed: CTest's usual "skipped".
constexpr int no_verdict = 77;
constexpr const char* group = "soak";

struct Flags {
  double seconds = 60;
  std::optional<std::uint64_t> seed;
  Shape shape;
  std::string consumers = "2:4";
  double rate = 40;
  std::string work_dir;
  std::string kafka;
  std::string kafka_script = "scripts/kafka.sh";
  bool print_schedule = false;
  // A member's own flags (set by the soak when it starts one).
  std::string role;
  MemberOptions member;
};

std::vector<std::string> member_arguments(const Flags& flags, Role role, int index,
                                          const std::string& brokers) {
  std::vector<std::string> arguments{"--role",           role == Role::producer ? "producer" : "consumer",
                                     "--member-brokers", brokers,
                                     "--index",          std::to_string(index),
                                     "--rate",           std::to_string(flags.rate)};
  if (!flags.kafka.empty()) arguments.emplace_back("--real-kafka");
  return arguments;
}

int run_soak(Flags& flags) {
  const auto colon = flags.consumers.find(':');
  flags.shape.min_consumers = std::stoi(flags.consumers.substr(0, colon));
  flags.shape.max_consumers = colon == std::string::npos
                                  ? flags.shape.min_consumers
                                  : std::stoi(flags.consumers.substr(colon + 1));
  if (flags.shape.min_consumers < 1 || flags.shape.max_consumers < flags.shape.min_consumers) {
    std::cerr << "corps-soak: --consumers MIN:MAX needs 1 <= MIN <= MAX\n";
    return 2;
  }
  const std::uint64_t seed = flags.seed.value_or(std::random_device{}());
  const auto length = std::chrono::seconds(static_cast<long>(flags.seconds));

  namespace fs = std::filesystem;
  const fs::path work = flags.work_dir.empty()
                            ? fs::temp_directory_path() / ("corps-soak-" + std::to_string(seed))
                            : fs::path(flags.work_dir);
  fs::remove_all(work);
  fs::create_directories(work);

  std::unique_ptr<Cluster> cluster;
  if (flags.kafka.empty()) {
    cluster = std::make_unique<EmbeddedCluster>(flags.shape.brokers, topic, flags.shape.partitions,
                                                work.string());
  } else {
    cluster = std::make_unique<KafkaCluster>(flags.kafka_script, flags.kafka, topic,
                                             flags.shape.partitions, work.string());
    flags.shape.brokers = cluster->brokers();
  }
  const auto schedule = make_schedule(seed, length, faults_for(*cluster));
  const std::string on = flags.kafka.empty()
                             ? "the embedded broker"
                             : "Kafka cluster '" + flags.kafka + "' (" +
                                   std::to_string(cluster->brokers()) + " brokers)";
  std::cout << "soak: seed " << seed << ", " << flags.seconds << " s on " << on << ", "
            << schedule.size() << " faults scheduled (replay: corps-soak --seed " << seed
            << " --seconds " << flags.seconds
            << (flags.kafka.empty() ? "" : " --kafka " + flags.kafka) << ")" << std::endl;
  if (flags.print_schedule) {
    for (const auto& event : schedule) {
      std::cout << "  " << event.at.count() << " ms: " << to_string(event.fault) << " ("
                << event.which << ", " << event.other << ", " << event.lasts.count() << " ms)\n";
    }
  }

  const std::string brokers = cluster->bootstrap_servers();
  // What ends the run without a verdict: the cluster's own end.
  const auto broker_crashed = [&](std::vector<Member>& a, std::vector<Member>& b) {
    std::string why;
    if (cluster->alive(why)) return false;
    for (auto& member : a) member.kill_hard();
    for (auto& member : b) member.kill_hard();
    std::cout << "soak: seed " << seed << ": NO VERDICT: the cluster ended apart from the nemesis ("
              << why << "); its logs: " << cluster->logs() << std::endl;
    return true;
  };

  std::vector<Member> producers;
  std::vector<Member> consumers;
  for (int i = 0; i < flags.shape.producers; ++i) {
    producers.emplace_back(Role::producer, i, member_arguments(flags, Role::producer, i, brokers),
                           work.string());
  }
  for (int i = 0; i < flags.shape.max_consumers; ++i) {
    consumers.emplace_back(Role::consumer, i, member_arguments(flags, Role::consumer, i, brokers),
                           work.string());
  }
  for (int i = 0; i < flags.shape.min_consumers; ++i)
    consumers[static_cast<std::size_t>(i)].start();
  for (auto& producer : producers) producer.start();

  // The faults, on schedule.
  Nemesis nemesis(*cluster, topic, flags.shape, producers, consumers);
  const auto start = Clock::now();
  std::size_t next = 0;
  while (Clock::now() - start < length && !corps::shutdown_requested()) {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    while (next < schedule.size() && schedule[next].at <= elapsed) nemesis.apply(schedule[next++]);
    nemesis.tick();
    if (broker_crashed(producers, consumers)) return no_verdict;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  nemesis.heal();
  std::cout << "soak: faults applied: " << nemesis.summary() << std::endl;

  // The producers stop (each flushes what it sent), then the consumers read
  // everything acknowledged.
  for (auto& producer : producers) producer.stop(std::chrono::seconds(90));
  const auto journals = [&](std::vector<Member>& members) {
    std::vector<std::string> out;
    for (auto& member : members)
      out.insert(out.end(), member.journals().begin(), member.journals().end());
    return out;
  };
  const auto drain_until = Clock::now() + std::chrono::seconds(180);
  std::size_t waiting = 0;
  do {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (broker_crashed(producers, consumers)) return no_verdict;
    waiting =
        History::read(journals(producers), journals(consumers), topic).acknowledged_unconsumed();
  } while (waiting > 0 && Clock::now() < drain_until);
  for (auto& consumer : consumers) consumer.stop(std::chrono::seconds(30));
  if (broker_crashed(producers, consumers)) return no_verdict;

  const History history = History::read(journals(producers), journals(consumers), topic);
  const auto verdict = history.judge(!flags.kafka.empty());
  int incarnations = 0;
  for (auto& member : producers) incarnations += member.incarnations();
  for (auto& member : consumers) incarnations += member.incarnations();
  std::cout << "soak: " << incarnations << " member processes in all; " << history.unknown()
            << " sent by producers killed before they heard (may or may not "
            << "be on the log)\n";
  for (const auto& line : history.missing())
    std::cout << "soak: deleted before read: " << line << "\n";
  for (const auto& line : history.bad()) std::cout << "soak: undecodable: " << line << "\n";
  std::cout << "soak: " << verdict.to_string() << "\n";
  const bool holds = verdict.holds && history.missing().empty() && history.bad().empty();
  std::cout << "soak: seed " << seed << ": " << (holds ? "nothing lost" : "VIOLATED")
            << " (journals and member logs in " << work.string() << ")" << std::endl;
  if (holds && flags.work_dir.empty()) fs::remove_all(work);
  return holds ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"corps-soak: a randomized fault soak on the embedded broker or a real Kafka"};
  app.add_option("--seconds", flags.seconds, "How long the faults go on")->capture_default_str();
  app.add_option("--seed", flags.seed, "The schedule's seed (default: a fresh one, printed)");
  app.add_option("--producers", flags.shape.producers, "Producer processes")->capture_default_str();
  app.add_option(
         "--consumers", flags.consumers,
         "Consumer processes in the group: at least MIN, at most MAX as members come and go")
      ->capture_default_str();
  app.add_option("--brokers", flags.shape.brokers, "Brokers in the embedded cluster")
      ->capture_default_str();
  app.add_option("--partitions", flags.shape.partitions, "Partitions of the soak's topic")
      ->capture_default_str();
  app.add_option("--rate", flags.rate, "Values per second per producer")->capture_default_str();
  app.add_option("--work-dir", flags.work_dir,
                 "Where journals and member logs go (default: a temporary directory, removed "
                 "when nothing was lost)");
  app.add_option("--kafka", flags.kafka,
                 "Run on the real Kafka cluster of this name that scripts/kafka.sh started "
                 "(scripts/kafka.sh start --nodes 3 --name NAME); it is emptied first");
  app.add_option("--kafka-script", flags.kafka_script, "scripts/kafka.sh, for --kafka")
      ->capture_default_str();
  app.add_flag("--print-schedule", flags.print_schedule, "Print every scheduled fault");
  // A member's flags: the soak starts its members with these.
  app.add_option("--role", flags.role)
      ->group("")
      ->check(CLI::IsMember({"producer", "consumer", "broker"}));
  app.add_option("--member-brokers", flags.member.brokers)->group("");
  app.add_option("--index", flags.member.index)->group("");
  app.add_option("--incarnation", flags.member.incarnation)->group("");
  app.add_option("--journal", flags.member.journal)->group("");
  app.add_flag("--real-kafka", flags.member.real_kafka)->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (!flags.role.empty()) {
      // A member ends with the soak, whatever ends the soak.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (flags.role == "broker") {
        return run_broker(flags.shape.brokers, topic, flags.shape.partitions, flags.member.journal);
      }
      flags.member.topic = topic;
      flags.member.group = group;
      flags.member.rate = flags.rate;
      return flags.role == "producer" ? run_producer(flags.member) : run_consumer(flags.member);
    }
    corps::install_shutdown_handlers();
    return run_soak(flags);
  } catch (const std::exception& e) {
    std::cerr << "corps-soak: " << e.what() << "\n";
    return 2;
  }
}
