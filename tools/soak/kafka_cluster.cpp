#include "kafka_cluster.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "corps/admin.hpp"
#include "corps/testing/broker_test.hpp"

extern char** environ;

namespace corps::soak {

namespace {

using namespace std::chrono_literals;

std::string shell_quoted(const std::string& word) {
  std::string out = "'";
  for (const char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// What a shell command prints, trimmed; throws if it fails.
std::string output_of(const std::string& command) {
  std::unique_ptr<FILE, decltype(&pclose)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string out;
  char buffer[4096];
  while (fgets(buffer, sizeof buffer, pipe.get()) != nullptr) out += buffer;
  const int status = pclose(pipe.release());
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  if (status != 0) throw std::runtime_error(command + " failed: " + out);
  return out;
}

pid_t spawn(const std::vector<std::string>& command, const std::string& log) {
  std::vector<std::string> storage = command;
  std::vector<char*> argv;
  for (auto& word : storage) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int failed = posix_spawnp(&pid, argv[0], &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (failed != 0) throw std::runtime_error("cannot run " + command[0] + ": " + std::strerror(failed));
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool iptables_at_hand() {
  for (const char* path : {"/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"}) {
    if (access(path, X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

KafkaCluster::KafkaCluster(std::string script, std::string name, const std::string& topic,
                           int partitions, const std::string& work_dir)
    : script_(std::move(script)),
      name_(std::move(name)),
      topic_(topic),
      partitions_(partitions),
      work_dir_(work_dir),
      log_(work_dir + "/kafka-nemesis.log") {
  const std::string prefix = "bash " + shell_quoted(script_) + " ";
  const std::string suffix = " --name " + shell_quoted(name_);
  bootstrap_ = output_of(prefix + "bootstrap" + suffix);
  cluster_dir_ = output_of(prefix + "dir" + suffix);
  brokers_ = static_cast<int>(std::count(bootstrap_.begin(), bootstrap_.end(), ',')) + 1;
  for (int broker = 1; broker <= brokers_; ++broker) {
    if (node_pid(broker) <= 0) {
      throw std::runtime_error("node " + std::to_string(broker) + " of Kafka cluster '" + name_ +
                               "' does not run (scripts/kafka.sh status --name " + name_ + ")");
    }
  }
  // The nodes run with groups of their own only when started as root: only
  // then can one be cut off.
  can_isolate_ = geteuid() == 0 && iptables_at_hand();
  corps::testing::clear_cluster(bootstrap_);
  const int replicas = std::min(3, brokers_);
  Admin admin({.brokers = bootstrap_, .timeout = 30s});
  admin.create_topic({topic_, partitions_, replicas},
                     {{"min.insync.replicas", std::to_string(std::min(2, replicas))}});
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    try {
      const auto info = admin.describe_topic(topic_);
      if (static_cast<int>(info.partitions.size()) == partitions_ &&
          std::all_of(info.partitions.begin(), info.partitions.end(),
                      [&](const PartitionInfo& p) {
                        return p.leader >= 0 && static_cast<int>(p.in_sync_replicas.size()) == replicas;
                      })) {
        break;
      }
    } catch (const Exception&) {
      // not known everywhere yet
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("topic " + topic_ + " has no leader and full ISR after 60 s");
    }
    std::this_thread::sleep_for(100ms);
  }
}

KafkaCluster::~KafkaCluster() {
  try {
    heal();
  } catch (const std::exception&) {
    // The cluster is the script's; `scripts/kafka.sh status` tells the rest.
  }
}

std::vector<Fault> KafkaCluster::broker_faults() const {
  std::vector<Fault> faults{Fault::kill_broker, Fault::pause_broker, Fault::restart_broker,
                            Fault::move_leader};
  if (can_isolate_) faults.push_back(Fault::isolate_broker);
  return faults;
}

std::vector<std::string> KafkaCluster::script_command(std::vector<std::string> arguments) const {
  arguments.insert(arguments.begin(), {"bash", script_});
  arguments.insert(arguments.end(), {"--name", name_});
  return arguments;
}

int KafkaCluster::run(std::vector<std::string> arguments) {
  return wait_for(spawn(script_command(std::move(arguments)), log_));
}

void KafkaCluster::launch(std::vector<std::string> command, std::string what) {
  launched_ = spawn(command, log_);
  launched_what_ = std::move(what);
}

void KafkaCluster::finish_launched() {
  if (launched_ <= 0) return;
  const int status = wait_for(launched_);
  if (status != 0) {
    std::ofstream(log_, std::ios::app) << "soak: " << launched_what_ << " ended with " << status
                                       << "\n";
  }
  launched_ = -1;
  restarting_ = 0;
}

bool KafkaCluster::settled() {
  if (launched_ > 0) {
    int status = 0;
    if (waitpid(launched_, &status, WNOHANG) != launched_) return false;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::ofstream(log_, std::ios::app)
          << "soak: " << launched_what_ << " ended with status " << status << "\n";
    }
    launched_ = -1;
    restarting_ = 0;
  }
  return killed_.empty() && paused_.empty() && isolated_.empty();
}

bool KafkaCluster::start(Fault fault, int broker, std::uint32_t detail) {
  const std::string id = std::to_string(broker);
  switch (fault) {
    case Fault::kill_broker:
      if (run({"kill", id}) != 0) return false;
      killed_.insert(broker);
      return true;
    case Fault::pause_broker:
      if (run({"pause", id}) != 0) return false;
      paused_.insert(broker);
      return true;
    case Fault::isolate_broker:
      if (run({"isolate", id}) != 0) return false;
      isolated_.insert(broker);
      return true;
    case Fault::restart_broker:
      if (launched_ > 0) return false;
      restarting_ = broker;
      launch(script_command({"restart", id}), "restart of node " + id);
      return true;
    case Fault::move_leader: {
      if (launched_ > 0) return false;
      // The new leader first in the replica list makes it the preferred
      // leader; a preferred election then moves leadership to it.
      const int partition = static_cast<int>(detail % static_cast<unsigned>(partitions_));
      std::string replicas = id;
      for (int other = 1; other <= std::min(3, brokers_); ++other) {
        if (other != broker) replicas += "," + std::to_string(other);
      }
      const std::string plan = work_dir_ + "/reassign-" + std::to_string(partition) + ".json";
      std::ofstream(plan) << R"({"version":1,"partitions":[{"topic":")" << topic_
                          << R"(","partition":)" << partition << R"(,"replicas":[)" << replicas
                          << "]}]}\n";
      const std::string tool = "bash " + shell_quoted(script_) + " tool ";
      const std::string bootstrap = " --bootstrap-server " + shell_quoted(bootstrap_);
      launch({"bash", "-c",
              tool + "org.apache.kafka.tools.reassign.ReassignPartitionsCommand" + bootstrap +
                  " --reassignment-json-file " + shell_quoted(plan) + " --execute && " + tool +
                  "org.apache.kafka.tools.LeaderElectionCommand" + bootstrap +
                  " --election-type PREFERRED --topic " + shell_quoted(topic_) + " --partition " +
                  std::to_string(partition)},
             "moving the leader of " + topic_ + "[" + std::to_string(partition) + "] to " + id);
      return true;
    }
    case Fault::kill_consumer:
    case Fault::kill_producer:
    case Fault::broker_down:
    case Fault::slow_broker:
    case Fault::request_errors:
    case Fault::add_consumer:
    case Fault::remove_consumer:
    case Fault::pause_consumer: return false;
  }
  return false;
}

void KafkaCluster::end(Fault fault, int broker) {
  const std::string id = std::to_string(broker);
  if (fault == Fault::kill_broker && killed_.erase(broker) > 0) {
    // Started again in the background: a JVM's start takes seconds, and the
    // faults go on meanwhile; settled() says when it is back.
    finish_launched();
    restarting_ = broker;
    launch(script_command({"restart", id}), "restart of node " + id);
  }
  if (fault == Fault::pause_broker && paused_.erase(broker) > 0) (void)run({"resume", id});
  if (fault == Fault::isolate_broker && isolated_.erase(broker) > 0) (void)run({"rejoin", id});
}

void KafkaCluster::heal() {
  finish_launched();
  for (const int broker : std::set<int>(paused_)) end(Fault::pause_broker, broker);
  for (const int broker : std::set<int>(isolated_)) end(Fault::isolate_broker, broker);
  for (const int broker : std::set<int>(killed_)) {
    killed_.erase(broker);
    (void)run({"restart", std::to_string(broker)});
  }
  // Every replica back in sync, so the drain reads from a whole cluster.
  Admin admin({.brokers = bootstrap_, .timeout = 30s});
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      const auto info = admin.describe_topic(topic_);
      const bool whole = std::all_of(info.partitions.begin(), info.partitions.end(),
                                     [&](const PartitionInfo& p) {
                                       return p.leader >= 0 &&
                                              p.in_sync_replicas.size() == p.replicas.size();
                                     });
      if (whole) return;
    } catch (const Exception&) {
      // a broker still coming back
    }
    std::this_thread::sleep_for(250ms);
  }
}

pid_t KafkaCluster::node_pid(int broker) const {
  std::ifstream file(cluster_dir_ + "/node" + std::to_string(broker) + "/pid");
  pid_t pid = -1;
  if (!(file >> pid) || pid <= 0 || ::kill(pid, 0) != 0) return -1;
  return pid;
}

bool KafkaCluster::alive(std::string& why) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < 1s) return true;
  last_check_ = now;
  for (int broker = 1; broker <= brokers_; ++broker) {
    if (killed_.contains(broker) || restarting_ == broker) continue;
    if (node_pid(broker) <= 0) {
      why = "Kafka node " + std::to_string(broker) + " stopped by itself; its log: " +
            cluster_dir_ + "/node" + std::to_string(broker) + "/server.log";
      return false;
    }
  }
  return true;
}

std::string KafkaCluster::logs() const {
  return log_ + " and " + cluster_dir_ + "/node*/server.log";
}

}  // namespace corps::soak
