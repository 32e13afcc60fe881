// The corps tool's subcommands: each registers itself on the parser and
// returns the exit code of its run.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>

namespace corps::cli {

/// Bad usage found after parsing (a malformed -o, -T or -H value): the tool
/// prints it and exits 2, as for a flag CLI11 refuses.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A subcommand's run, called after parsing; returns the exit code.
using Run = std::function<int()>;

/// A registered subcommand and what runs it.
struct Command {
  CLI::App* app;
  Run run;
};

/// `corps broker`: runs the embedded broker until interrupted.
Command add_broker_command(CLI::App& app);
/// `corps registry`: runs a schema registry until interrupted.
Command add_registry_command(CLI::App& app);
/// `corps topics list|describe|create|alter`: topic administration.
Command add_topics_command(CLI::App& app);
/// `corps produce CHANNEL`: sends messages read as JSON or text.
Command add_produce_command(CLI::App& app);
/// `corps consume CHANNEL...`: prints decoded records.
Command add_consume_command(CLI::App& app);
/// `corps replay`: sends dead letters back to their channels.
Command add_replay_command(CLI::App& app);
/// `corps lag GROUP`: how far a consumer group is behind, per partition.
Command add_lag_command(CLI::App& app);
/// `corps top URL...`: rates per channel from services' metrics endpoints.
Command add_top_command(CLI::App& app);

}  // namespace corps::cli
