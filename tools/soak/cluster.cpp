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

Cluster::Cluster(int brokers, const std::string& topic, int partitions,
                 const std::string& work_dir) {
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
  (void)topic;
}

Cluster::~Cluster() {
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

bool Cluster::alive(std::string& why) {
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

void Cluster::command(const std::string& line) {
  const std::string text = line + "\n";
  // A broker that died takes its commands with it; alive() says so.
  (void)!write(commands_, text.data(), text.size());
}

void Cluster::set_broker_down(std::int32_t broker) {
  command("down " + std::to_string(broker));
}
void Cluster::set_broker_up(std::int32_t broker) {
  command("up " + std::to_string(broker));
}
void Cluster::set_round_trip_time(std::int32_t broker, std::chrono::milliseconds rtt) {
  command("rtt " + std::to_string(broker) + " " + std::to_string(rtt.count()));
}
void Cluster::push_request_errors(KafkaApi api, const std::vector<KafkaError>& errors) {
  std::string line = "errors " + std::to_string(static_cast<int>(api));
  for (const KafkaError error : errors) line += " " + std::to_string(static_cast<int>(error));
  command(line);
}
void Cluster::set_partition_leader(const std::string& topic, std::int32_t partition,
                                   std::int32_t broker) {
  command("leader " + topic + " " + std::to_string(partition) + " " + std::to_string(broker));
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
