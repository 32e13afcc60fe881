// Configuration: which brokers, which group, which channels.
//
// Every corps program takes its brokers, in this order, from: an explicit
// list (the --brokers flag), the CORPS_BROKERS environment variable, a YAML
// config file, the address file of a running `corps broker`, and finally an
// embedded broker started in-process. Channels, brokers, group and raw
// librdkafka properties may all come from one YAML file:
//
//   brokers: localhost:9092
//   group: detectors
//   client_id: predict-1
//   registry: http://localhost:8081   # a schema registry, for its framing
//   channels:
//     VideoStream: corps.proto.Image
//     Predictions: corps.proto.Prediction
//   librdkafka:
//     linger.ms: 10
//   sections:            # one per program, inheriting the above
//     predict: {group: predict, consume: VideoStream, produce: Predictions}
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corps/broker.hpp"
#include "corps/registry.hpp"

namespace corps {

/// Settings read from a YAML file.
struct Config {
  /// Bootstrap brokers; empty if the file names none.
  std::string brokers;
  /// Consumer group; empty if the file names none.
  std::string group_id;
  /// Client id; empty if the file names none.
  std::string client_id;
  /// A schema registry's URL (or several, comma-separated); empty if the
  /// file names none.
  std::string registry;
  /// Channel name to full protobuf type name.
  std::map<std::string, std::string> channels;
  /// The channels a program reads (a name or a list in YAML).
  std::vector<std::string> consume;
  /// The channels a program writes to (a name or a list in YAML).
  std::vector<std::string> produce;
  /// Raw librdkafka properties.
  std::map<std::string, std::string> properties;
  /// Named sub-sections (e.g. one per program of a pipeline), each a Config
  /// that inherits this one's values where it is silent.
  std::map<std::string, Config> sections;

  /// Parses YAML text; `origin` names it in errors. Throws corps::Exception
  /// (Stage::config) saying what was expected, what was found, and where.
  [[nodiscard]] static Config parse(std::string_view yaml, std::string_view origin = "<string>");
  /// Reads and parses a YAML file. Throws corps::Exception (Stage::config).
  [[nodiscard]] static Config load(const std::filesystem::path& path);

  /// The section `name`, merged over this config. Throws corps::Exception
  /// (Stage::config) naming the sections there are if it is absent.
  [[nodiscard]] Config section(std::string_view name) const;

  /// Binds every channel to its type in protobuf's generated pool.
  void bind_channels(ChannelRegistry& registry) const;
};

/// Where a program's brokers came from.
enum class BrokerSource {
  explicit_list,  ///< given by the caller (a --brokers flag)
  environment,    ///< CORPS_BROKERS
  config_file,    ///< a YAML config
  address_file,   ///< a running `corps broker` on this machine
  embedded,       ///< an embedded broker started in this process
};

/// The name of a broker source, e.g. "embedded".
[[nodiscard]] std::string_view to_string(BrokerSource source) noexcept;

/// The brokers a program talks to, and the embedded broker it runs if any.
/// Movable; destroying it stops an embedded broker.
class Brokers {
 public:
  /// Resolves the brokers: `explicit_list`, then CORPS_BROKERS, then
  /// `from_config`, then a live `corps broker` address file, then a new
  /// embedded broker with `embedded` options.
  [[nodiscard]] static Brokers resolve(std::string_view explicit_list = {},
                                       std::string_view from_config = {},
                                       EmbeddedBrokerOptions embedded = {});

  /// The first of `explicit_list`, CORPS_BROKERS, `from_config` and a live
  /// `corps broker` address file; nullopt if none names brokers. For tools
  /// that should not start a broker of their own.
  [[nodiscard]] static std::optional<Brokers> find(std::string_view explicit_list = {},
                                                   std::string_view from_config = {});

  /// Uses a given list.
  Brokers(std::string bootstrap, BrokerSource source);
  /// Owns an embedded broker.
  explicit Brokers(std::unique_ptr<EmbeddedBroker> embedded);

  /// "host:port[,host:port...]".
  [[nodiscard]] const std::string& bootstrap_servers() const noexcept { return bootstrap_; }
  [[nodiscard]] BrokerSource source() const noexcept { return source_; }
  /// The broker this process runs, or nullptr.
  [[nodiscard]] EmbeddedBroker* embedded() const noexcept { return embedded_.get(); }

 private:
  std::string bootstrap_;
  BrokerSource source_;
  std::unique_ptr<EmbeddedBroker> embedded_;
};

/// Where `corps broker` writes its address: $CORPS_BROKER_FILE, else
/// $XDG_RUNTIME_DIR/corps/broker, else /tmp/corps-<uid>/broker.
[[nodiscard]] std::filesystem::path broker_address_file();

/// The address in the address file if the broker that wrote it still runs;
/// empty otherwise.
[[nodiscard]] std::string read_broker_address_file();

/// Records `bootstrap` (and this process's id, and the URL where the
/// broker takes topic requests, if any) in the address file. Throws
/// corps::Exception (Stage::config) if it cannot be written.
void write_broker_address_file(std::string_view bootstrap, std::string_view control_url = {});

/// Where the `corps broker` at `bootstrap` takes topic requests (its
/// control URL, from the address file), or empty if it is not that broker
/// or takes none.
[[nodiscard]] std::string embedded_broker_control_url(std::string_view bootstrap);

/// Removes the address file if this process wrote it.
void remove_broker_address_file() noexcept;

/// Names the bootstrap servers of an embedded broker to the programs a
/// process that runs it starts (the pipeline's launcher sets it for its
/// services): they are on an embedded broker too.
inline constexpr const char* embedded_broker_variable = "CORPS_EMBEDDED_BROKER";

/// True if `bootstrap` is an embedded broker: one this process runs, the one
/// embedded_broker_variable names, or the running `corps broker` the address
/// file names. Consumers use it to hand a group over in seconds there
/// (ConsumerOptions::session_timeout) and not to wait on empty fetches
/// (ConsumerOptions::fetch_wait).
[[nodiscard]] bool is_embedded_broker(std::string_view bootstrap);

}  // namespace corps
