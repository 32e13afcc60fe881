// corps replay: sends dead letters back to the channels they came from.
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "connection.hpp"
#include "corps/replay.hpp"

namespace corps::cli {

namespace {

struct ReplayArgs {
  ConnectionFlags connection;
  ReplayOptions options;
  std::optional<std::int64_t> count;
  int timeout_ms = 60'000;
};

int replay(const ReplayArgs& args) {
  const auto connection = connect(args.connection, {});
  ReplayOptions options = args.options;
  options.brokers = connection.brokers;
  options.properties = connection.properties;
  options.timeout = std::chrono::milliseconds(args.timeout_ms);
  if (args.count) options.max_letters = static_cast<std::size_t>(*args.count);
  const auto report = replay_dead_letters(options);
  if (!report.ok()) throw Exception(report.error());
  for (const auto& failure : report->failures)
    std::cerr << "corps: " << failure.to_string() << '\n';
  std::cout << "replayed " << report->replayed << " of " << report->read << " dead letter(s) from "
            << options.dead_letter_channel << " (" << report->skipped << " skipped, "
            << report->failures.size() - report->unconfirmed << " failed";
  if (report->unconfirmed > 0) std::cout << ", " << report->unconfirmed << " unconfirmed";
  std::cout << ")\n";
  return report->failures.empty() ? 0 : 3;
}

}  // namespace

Command add_replay_command(CLI::App& app) {
  auto args = std::make_shared<ReplayArgs>();
  auto* command = app.add_subcommand(
      "replay",
      "Send dead letters back to their channels, byte for byte, each with a "
      "corps-replayed-from header. Reads the dead-letter channel up to its end as of now.");
  add_connection_flags(*command, args->connection);
  command
      ->add_option("--dead-letters", args->options.dead_letter_channel,
                   "The dead-letter channel to read")
      ->capture_default_str();
  command->add_option("--only", args->options.only_channel,
                      "Replay only letters whose record came from this channel");
  command->add_option("--to", args->options.to_channel,
                      "Send every letter to this channel instead of its own");
  command
      ->add_option("--from-offset", args->options.from_offset,
                   "First offset read in each dead-letter partition (default: the oldest)")
      ->check(CLI::NonNegativeNumber);
  command->add_option("-c,--count", args->count, "Replay at most this many letters")
      ->check(CLI::PositiveNumber);
  command->add_option("--timeout,--timeout-ms", args->timeout_ms,
                      "How long the whole replay may take, in ms")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  return {command, [args] { return replay(*args); }};
}

}  // namespace corps::cli
