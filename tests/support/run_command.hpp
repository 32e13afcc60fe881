// Runs a shell command and collects what it printed, for tests that drive
// programs nobody here wrote (Python's Kafka clients, kcat).
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

namespace corps_tests {

struct CommandOutcome {
  int exit_code = -1;              ///< the command's exit status, or -1 if it did not exit
  std::vector<std::string> lines;  ///< its standard output, line by line
};

inline CommandOutcome run_command(const std::string& command) {
  CommandOutcome outcome;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  char buffer[8192];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
    std::string line(buffer);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    outcome.lines.push_back(line);
  }
  const int status = pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace corps_tests
