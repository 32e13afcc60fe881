#include "cluster.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace corps::soak {

namespace {

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
    case Fault::kill_broker: return "kill -9 a broker";
    case Fault::pause_broker: return "pause a broker";
    case Fault::isolate_broker: return "cut a broker off";
    case Fault::restart_broker: return "restart a broker";
  }
  return "?";
}

EmbeddedCluster::EmbeddedCluster(int brokers, const std::string& topic, int partitions,
                                 const std::string& work_dir)
    : brokers_(brokers), topic_(topic), partitions_(partitions) {
  const std::string address_file = work_dir + "/broker.address";
  log_ = work_dir + "/broker.log";
  std::remove(address_file.c_str());
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) throw std::runtime_error("cannot make a pipe for the broker");
  std::vector<std::string> arguments{"/proc/self/exe",
                                     "--role",
                                     "broker",
                                     "--brokers",
                                     std::to_string(brokers),
                                     "--partitions",
                                     std::to_string(partitions),
                                     "--journal",
                                     address_file};
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, pipe_ends[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&files, pipe_ends[1]);
  posix_spawn_file_actions_addopen(&files, STDOUT_FILENO, log_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&files, STDOUT_FILENO, STDERR_FILENO);
  const int failed = posix_spawn(&pid_, "/proc/self/exe", &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  close(pipe_ends[0]);
  if (failed != 0) {
    close(pipe_ends[1]);
    throw std::runtime_error(std::string("cannot start the broker: ") + std::strerror(failed));
  }
  commands_ = pipe_ends[1];
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (bootstrap_.empty()) {
    std::string why;
    if (!alive(why)) throw std::runtime_error("the broker did not start: " + why);
    if (std::chrono::steady_clock::now() > until)
      throw std::runtime_error("the broker did not start");
    std::ifstream address(address_file);
    std::getline(address, bootstrap_);
    if (bootstrap_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

EmbeddedCluster::~EmbeddedCluster() {
  if (commands_ >= 0) close(commands_);  // end of input: the broker stops
  if (pid_ > 0) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

bool EmbeddedCluster::alive(std::string& why) {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
  pid_ = -1;
  std::ostringstream out;
  if (WIFSIGNALED(status)) {
    out << "killed by signal " << WTERMSIG(status);
  } else {
    out << "exited with " << WEXITSTATUS(status);
  }
  std::ifstream log(log_);
  std::string line;
  std::string last;
  while (std::getline(log, line)) {
    if (!line.empty()) last = line;
  }
  if (!last.empty()) out << "; its last words: " << last;
  why = out.str();
  return false;
}

void EmbeddedCluster::command(const std::string& line) {
  const std::string text = line + "\n";
  // A broker that died takes its commands with it; alive() says so.
  (void)!write(commands_, text.data(), text.size());
}

std::vector<Fault> EmbeddedCluster::broker_faults() const {
  return {Fault::broker_down, Fault::move_leader, Fault::slow_broker, Fault::request_errors};
}

bool EmbeddedCluster::start(Fault fault, int broker, std::uint32_t detail) {
  const std::string id = std::to_string(broker);
  switch (fault) {
    case Fault::broker_down: command("down " + id); return true;
    case Fault::slow_broker:
      command("rtt " + id + " " + std::to_string(100 + detail % 700));
      return true;
    case Fault::move_leader:
      command("leader " + topic_ + " " + std::to_string(detail % static_cast<unsigned>(partitions_)) +
              " " + id);
      return true;
    case Fault::request_errors: {
      const auto& kind = request_errors()[detail % request_errors().size()];
      std::string line = "errors " + std::to_string(static_cast<int>(kind.api));
      for (unsigned i = 0; i < 1 + detail % 5; ++i) {
        const KafkaError error = kind.errors[(detail / 5 + i) % kind.errors.size()];
        line += " " + std::to_string(static_cast<int>(error));
      }
      command(line);
      return true;
    }
    case Fault::kill_consumer:
    case Fault::kill_producer:
    case Fault::add_consumer:
    case Fault::remove_consumer:
    case Fault::pause_consumer:
    case Fault::kill_broker:
    case Fault::pause_broker:
    case Fault::isolate_broker:
    case Fault::restart_broker: return false;
  }
  return false;
}

void EmbeddedCluster::end(Fault fault, int broker) {
  const std::string id = std::to_string(broker);
  if (fault == Fault::broker_down) command("up " + id);
  if (fault == Fault::slow_broker) command("rtt " + id + " 0");
}

void EmbeddedCluster::heal() {
  for (int broker = 1; broker <= brokers_; ++broker) {
    command("up " + std::to_string(broker));
    command("rtt " + std::to_string(broker) + " 0");
  }
}

int run_broker(int brokers, const std::string& topic, int partitions,
               const std::string& address_file) {
  // SIGPIPE, SIGINT: the soak decides when the broker stops (its input ends).
  signal(SIGINT, SIG_IGN);
  EmbeddedBroker cluster(
      EmbeddedBrokerOptions{.broker_count = brokers, .topics = {{topic, partitions, brokers}}});
  {
    std::ofstream address(address_file + ".part");
    address << cluster.bootstrap_servers() << "\n";
  }
  std::rename((address_file + ".part").c_str(), address_file.c_str());
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string verb;
    words >> verb;
    if (verb == "down" || verb == "up") {
      int broker = 0;
      words >> broker;
      verb == "down" ? cluster.set_broker_down(broker) : cluster.set_broker_up(broker);
    } else if (verb == "rtt") {
      int broker = 0;
      long rtt = 0;
      words >> broker >> rtt;
      cluster.set_round_trip_time(broker, std::chrono::milliseconds(rtt));
    } else if (verb == "errors") {
      int api = 0;
      words >> api;
      std::vector<KafkaError> errors;
      for (int code = 0; words >> code;) errors.push_back(static_cast<KafkaError>(code));
      cluster.push_request_errors(static_cast<KafkaApi>(api), errors);
    } else if (verb == "leader") {
      std::string name;
      int partition = 0;
      int broker = 0;
      words >> name >> partition >> broker;
      cluster.set_partition_leader(name, partition, broker);
    }
  }
  return 0;
}

}  // namespace corps::soak
