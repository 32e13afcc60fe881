// corps: the command-line tool. Exit codes: 0 ok; 1 failure (one line on
// stderr); 2 bad usage; 3 some records were not decoded (consume) or not
// sent (produce), each reported.
#include <iostream>
#include <vector>

#include "commands.hpp"
#include "corps/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"corps: typed protobuf messaging over Apache Kafka"};
  app.footer(
      "Exit codes: 0 ok; 1 failure (reason on stderr); 2 bad usage; 3 some records not decoded "
      "(consume) or not sent (produce).\nBrokers: -b, else CORPS_BROKERS, else --config, else a "
      "running `corps broker`.");
  app.require_subcommand(1);
  const std::vector<corps::cli::Command> commands{
      corps::cli::add_broker_command(app),
      corps::cli::add_topics_command(app),
      corps::cli::add_produce_command(app),
      corps::cli::add_consume_command(app),
      corps::cli::add_replay_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const corps::Exception& e) {
    std::cerr << "corps: " << e.what() << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "corps: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
