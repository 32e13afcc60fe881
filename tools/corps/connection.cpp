#include "connection.hpp"

#include "commands.hpp"

#include "corps/dead_letter.pb.h"
#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "corps/schema.hpp"

namespace corps::cli {

void add_broker_flags(CLI::App& command, ConnectionFlags& flags) {
  command.add_option(
      "-b,--brokers", flags.brokers,
      "Kafka bootstrap brokers HOST:PORT,... (default: CORPS_BROKERS, --config, or a "
      "running `corps broker`)");
  command
      .add_option("--config", flags.config_file,
                  "YAML config: brokers, channels, librdkafka properties")
      ->check(CLI::ExistingFile);
  command.add_option("-X", flags.properties, "A librdkafka property NAME=VALUE (repeatable)");
}

void add_connection_flags(CLI::App& command, ConnectionFlags& flags) {
  add_broker_flags(command, flags);
  command
      .add_option("--proto", flags.proto_files,
                  "A .proto file defining channel types (repeatable): a path, or a name under "
                  "an -I directory, as protoc takes it");
  command
      .add_option("-I,--proto-path", flags.include_dirs,
                  "Where .proto imports are found (repeatable)")
      ->check(CLI::ExistingDirectory);
  command
      .add_option("--descriptor-set", flags.descriptor_sets,
                  "A FileDescriptorSet from protoc --descriptor_set_out (repeatable)")
      ->check(CLI::ExistingFile);
  command.add_option("-T,--type", flags.types, "Bind CHANNEL=full.type.Name (repeatable)");
}

std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& flag) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UsageError(flag + " '" + text + "': expected NAME=VALUE");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

Connection connect(const ConnectionFlags& flags, const std::vector<std::string>& channels) {
  // Bad usage first: it is answered without waiting for any broker.
  std::map<std::string, std::string> properties;
  for (const auto& property : flags.properties) {
    auto [name, value] = split_assignment(property, "-X");
    properties[name] = value;  // the last one given wins
  }
  std::vector<std::pair<std::string, std::string>> bindings;
  for (const auto& binding : flags.types) bindings.push_back(split_assignment(binding, "--type"));

  Connection connection;
  if (!flags.config_file.empty()) connection.config = Config::load(flags.config_file);
  auto found = Brokers::find(flags.brokers, connection.config.brokers);
  if (!found) {
    throw Exception(
        Error(Errc::broker_unreachable, Stage::connect,
              "no brokers: give -b HOST:PORT, set CORPS_BROKERS, name them in --config, "
              "or start `corps broker`"));
  }
  connection.brokers = found->bootstrap_servers();
  connection.properties = connection.config.properties;
  for (const auto& [name, value] : properties) connection.properties[name] = value;

  std::shared_ptr<const google::protobuf::DescriptorPool> pool;
  if (!flags.proto_files.empty() || !flags.descriptor_sets.empty()) {
    SchemaSet schemas;
    for (const auto& dir : flags.include_dirs) schemas.add_include_dir(dir);
    for (const auto& file : flags.proto_files) schemas.add_proto_file(file);
    for (const auto& file : flags.descriptor_sets) schemas.add_descriptor_set(file);
    pool = schemas.build();
  }
  std::map<std::string, std::string> wanted = {{"VideoStream", "corps.proto.Image"},
                                               {"Predictions", "corps.proto.Prediction"},
                                               {"DeadLetters", "corps.proto.DeadLetter"}};
  for (const auto& [channel, type] : connection.config.channels) wanted[channel] = type;
  for (const auto& [channel, type] : bindings) wanted[channel] = type;
  for (const auto& [channel, type] : wanted) {
    // Types from the given schemas first: they may redefine compiled ones.
    if (pool && pool->FindMessageTypeByName(type) != nullptr) {
      connection.registry.bind(channel, type, pool);
    } else {
      connection.registry.bind(channel, type);
    }
  }
  for (const auto& channel : channels) {
    if (connection.registry.find(channel) == nullptr) {
      throw Exception(
          Error(Errc::unknown_channel, Stage::config,
                "channel '" + channel + "' has no type: bind it with --type " + channel +
                    "=full.type.Name (and --proto or --descriptor-set if corps does not "
                    "know the type), or in --config"));
    }
  }
  return connection;
}

}  // namespace corps::cli
