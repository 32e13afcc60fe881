// What the corps tool's data commands share: where the brokers are and
// which type each channel carries, from flags, a YAML config, descriptor sets
// and .proto files.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "corps/config.hpp"
#include "corps/registry.hpp"
#include "corps/schema_registry.hpp"

namespace corps::cli {

/// Flags naming brokers and schemas.
struct ConnectionFlags {
  std::string brokers;
  std::string config_file;
  std::vector<std::string> proto_files;
  std::vector<std::string> include_dirs;
  std::vector<std::string> descriptor_sets;
  /// CHANNEL=TYPE pairs.
  std::vector<std::string> types;
  /// librdkafka properties, NAME=VALUE.
  std::vector<std::string> properties;
  /// A schema registry's URL (--registry); the config's `registry:` else.
  std::string registry;
};

/// Adds -b, --config and -X to `command`: where the brokers are.
void add_broker_flags(CLI::App& command, ConnectionFlags& flags);

/// Adds the broker flags and the schema flags (--proto, -I,
/// --descriptor-set, --type, --registry) to `command`.
void add_connection_flags(CLI::App& command, ConnectionFlags& flags);

/// Brokers, config and registry resolved from the flags.
struct Connection {
  std::string brokers;
  Config config;
  ChannelRegistry registry;
  std::map<std::string, std::string> properties;
  /// The schema registry (--registry, or the config's `registry:`), or null.
  std::shared_ptr<SchemaRegistryClient> schemas;
  /// The channels typed by their records' `corps-type` headers (ChannelUse::read).
  std::vector<std::string> typed_by_header;
};

/// What a command does with its channels' records.
enum class ChannelUse {
  /// Decodes them. A channel with no type bound is typed by each record's
  /// schema id when a schema registry is given, else by its `corps-type`
  /// header, among the types this program knows (corps's own, --proto's,
  /// --descriptor-set's).
  read,
  /// Shows their bytes: no channel needs a type.
  read_bytes,
  /// Encodes them: every channel must be bound; with a schema registry they
  /// are bound in WireFormat::confluent.
  write,
};

/// Resolves the flags. Brokers come from -b, CORPS_BROKERS, the config, or a
/// running `corps broker`. Channels are bound from, in order of precedence:
/// --type, the config's channels, and corps's own channels (VideoStream,
/// Predictions, DeadLetters); what becomes of `channels` not bound so is
/// `use`'s to say. Throws corps::Exception.
[[nodiscard]] Connection connect(const ConnectionFlags& flags,
                                 const std::vector<std::string>& channels,
                                 ChannelUse use = ChannelUse::read);

/// Splits "NAME=VALUE"; throws UsageError naming `flag` otherwise.
[[nodiscard]] std::pair<std::string, std::string> split_assignment(const std::string& text,
                                                                   const std::string& flag);

}  // namespace corps::cli
