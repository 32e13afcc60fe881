#include "connection.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "commands.hpp"
#include "corps/dead_letter.pb.h"
#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/metadata.pb.h"
#include "corps/prediction.pb.h"
#include "corps/schema.hpp"
#include "listening.hpp"

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
  command.add_option("--proto", flags.proto_files,
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
  command.add_option("--registry", flags.registry,
                     "A schema registry's URL (comma-separated for several). consume reads records "
                     "framed for it by their schema ids, also on channels given no type; produce "
                     "frames records for it, registering their schemas");
}

std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                     const std::string& flag) {
  const auto equals = text.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw UsageError(flag + " '" + text + "': expected NAME=VALUE");
  }
  return {text.substr(0, equals), text.substr(equals + 1)};
}

namespace {

// The message types compiled into corps, which the tool binds by name:
// its own schemas. Naming each file's descriptor links its generated code
// (and so registers it in the generated pool) into the tool.
std::vector<std::string> compiled_types() {
  std::vector<std::string> names;
  for (const auto* file :
       {corps::proto::MessageData::descriptor()->file(), corps::proto::Image::descriptor()->file(),
        corps::proto::Prediction::descriptor()->file(),
        corps::proto::DeadLetter::descriptor()->file()}) {
    for (int i = 0; i < file->message_type_count(); ++i)
      names.push_back(file->message_type(i)->full_name());
  }
  return names;
}

// Where the tool looked for types, for an error that found none.
std::string where_types_came_from(const ConnectionFlags& flags) {
  std::string files;
  for (const auto& file : flags.proto_files) files += (files.empty() ? "" : ", ") + file;
  for (const auto& file : flags.descriptor_sets) files += (files.empty() ? "" : ", ") + file;
  return files.empty() ? "among corps's own types (no --proto or --descriptor-set given)"
                       : "among corps's own types or in " + files;
}

// The edit distance between two names, case-insensitive.
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// " (did you mean 'X'?)" for the known type nearest to `type`, if it is
// near enough to be a misspelling or a missing package.
std::string suggestion(const std::string& type, const std::vector<std::string>& known) {
  const std::string* nearest = nullptr;
  std::size_t best = std::string::npos;
  for (const auto& name : known) {
    const auto last_dot = name.rfind('.');
    const std::string_view short_name = last_dot == std::string::npos
                                            ? std::string_view(name)
                                            : std::string_view(name).substr(last_dot + 1);
    const std::size_t d = std::min(distance(type, name), distance(type, short_name));
    if (d < best) {
      best = d;
      nearest = &name;
    }
  }
  if (nearest == nullptr || best > std::max<std::size_t>(2, type.size() / 4)) return "";
  return " (did you mean '" + *nearest + "'?)";
}

}  // namespace

Connection connect(const ConnectionFlags& flags, const std::vector<std::string>& channels,
                   ChannelUse use) {
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
  refuse_if_nothing_listens(connection.brokers);
  connection.properties = connection.config.properties;
  for (const auto& [name, value] : properties) connection.properties[name] = value;

  const std::string& registry_url =
      flags.registry.empty() ? connection.config.registry : flags.registry;
  if (!registry_url.empty()) {
    connection.schemas =
        std::make_shared<SchemaRegistryClient>(SchemaRegistryOptions{.url = registry_url});
  }
  // Only the channels the command names are framed: a producer registers
  // the schema of every channel bound so, and the rest are not sent to.
  // A reader given a registry takes a type with no metadata field too: such
  // records can only come framed for the registry, their metadata in a header.
  const auto format_of = [&](const std::string& channel, const google::protobuf::Descriptor& type) {
    const bool named = std::find(channels.begin(), channels.end(), channel) != channels.end();
    const bool framed = use == ChannelUse::write ||
                        (use == ChannelUse::read && find_metadata_field(&type) == nullptr);
    return connection.schemas && named && framed ? WireFormat::confluent : WireFormat::messagecorps;
  };

  std::shared_ptr<const google::protobuf::DescriptorPool> pool;
  std::vector<std::string> known_types = compiled_types();
  if (!flags.proto_files.empty() || !flags.descriptor_sets.empty()) {
    SchemaSet schemas;
    for (const auto& dir : flags.include_dirs) schemas.add_include_dir(dir);
    for (const auto& file : flags.proto_files) schemas.add_proto_file(file);
    for (const auto& file : flags.descriptor_sets) schemas.add_descriptor_set(file);
    pool = schemas.build();
    for (auto& type : schemas.message_types()) known_types.push_back(std::move(type));
  }
  std::map<std::string, std::string> wanted = {{"VideoStream", "corps.proto.Image"},
                                               {"Predictions", "corps.proto.Prediction"},
                                               {"DeadLetters", "corps.proto.DeadLetter"}};
  for (const auto& [channel, type] : connection.config.channels) wanted[channel] = type;
  for (const auto& [channel, type] : bindings) wanted[channel] = type;
  for (const auto& [channel, type] : wanted) {
    // Types from the given schemas first: they may redefine compiled ones.
    if (const auto* own = pool ? pool->FindMessageTypeByName(type) : nullptr) {
      connection.registry.bind(channel, type, pool, format_of(channel, *own));
    } else if (const auto* compiled =
                   google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
                       type)) {
      connection.registry.bind(channel, type, format_of(channel, *compiled));
    } else {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "channel '" + channel + "': no type '" + type + "' " +
                                where_types_came_from(flags) + suggestion(type, known_types) +
                                "; a type of your own needs --proto FILE or --descriptor-set "
                                "FILE"));
    }
  }
  for (const auto& channel : channels) {
    if (connection.registry.find(channel) != nullptr) continue;
    if (use == ChannelUse::read_bytes || (use == ChannelUse::read && connection.schemas)) continue;
    if (use == ChannelUse::read) {
      // Every type known here that a channel can carry: each record names
      // its own in its corps-type header.
      for (const auto& type : known_types) {
        try {
          if (pool && pool->FindMessageTypeByName(type) != nullptr) {
            connection.registry.add_type(channel, type, pool);
          } else if (const auto* compiled =
                         google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
                             type)) {
            connection.registry.add_type(
                channel,
                *google::protobuf::MessageFactory::generated_factory()->GetPrototype(compiled));
          }
        } catch (const Exception&) {
          // A type with no metadata field is never sent in MessageCorps's format.
        }
      }
      connection.typed_by_header.push_back(channel);
      continue;
    }
    throw Exception(Error(Errc::unknown_channel, Stage::config,
                          "channel '" + channel + "' has no type: bind it with --type " + channel +
                              "=full.type.Name (and --proto or --descriptor-set if corps does not "
                              "know the type), or in --config"));
  }
  return connection;
}

}  // namespace corps::cli
