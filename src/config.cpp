#include "corps/config.hpp"

#include <sys/types.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "corps/logging.hpp"
#include "detail/kafka_client.hpp"

namespace corps {

namespace {

Error config_error(std::string_view origin, const YAML::Mark& mark, std::string message) {
  std::string where(origin);
  if (!mark.is_null()) {
    where += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  }
  return Error(Errc::invalid_argument, Stage::config, where + ": " + message);
}

std::string scalar(const YAML::Node& node, std::string_view key, std::string_view origin) {
  if (!node.IsScalar()) {
    throw Exception(
        config_error(origin, node.Mark(), "'" + std::string(key) + "' must be a single value"));
  }
  return node.Scalar();
}

std::map<std::string, std::string> string_map(const YAML::Node& node, std::string_view key,
                                              std::string_view origin) {
  if (!node.IsMap()) {
    throw Exception(config_error(
        origin, node.Mark(), "'" + std::string(key) + "' must be a mapping of names to values"));
  }
  std::map<std::string, std::string> out;
  for (const auto& entry : node) {
    const auto name = entry.first.as<std::string>();
    out[name] = scalar(entry.second, std::string(key) + "." + name, origin);
  }
  return out;
}

Config from_node(const YAML::Node& root, std::string_view origin, bool allow_sections) {
  Config config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) {
    throw Exception(config_error(origin, root.Mark(), "expected a mapping at the top level"));
  }
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    const YAML::Node& value = entry.second;
    if (key == "brokers") {
      if (value.IsSequence()) {
        for (const auto& broker : value) {
          if (!config.brokers.empty()) config.brokers += ',';
          config.brokers += scalar(broker, key, origin);
        }
      } else {
        config.brokers = scalar(value, key, origin);
      }
    } else if (key == "group") {
      config.group_id = scalar(value, key, origin);
    } else if (key == "client_id") {
      config.client_id = scalar(value, key, origin);
    } else if (key == "registry") {
      config.registry = scalar(value, key, origin);
    } else if (key == "channels") {
      config.channels = string_map(value, key, origin);
    } else if (key == "consume" || key == "produce") {
      auto& names = key == "consume" ? config.consume : config.produce;
      if (value.IsSequence()) {
        for (const auto& name : value) names.push_back(scalar(name, key, origin));
      } else {
        names.push_back(scalar(value, key, origin));
      }
    } else if (key == "librdkafka") {
      config.properties = string_map(value, key, origin);
    } else if (key == "sections" && allow_sections) {
      if (!value.IsMap()) {
        throw Exception(
            config_error(origin, value.Mark(), "'sections' must map section names to settings"));
      }
      for (const auto& section : value) {
        config.sections[section.first.as<std::string>()] = from_node(section.second, origin, false);
      }
    } else {
      throw Exception(config_error(
          origin, entry.first.Mark(),
          "unknown key '" + key +
              "'; expected brokers, group, client_id, registry, channels, consume, produce, "
              "librdkafka" +
              (allow_sections ? " or sections" : "")));
    }
  }
  return config;
}

std::filesystem::path runtime_dir() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "corps";
  }
  return std::filesystem::path("/tmp") / ("corps-" + std::to_string(::getuid()));
}

}  // namespace

Config Config::parse(std::string_view yaml, std::string_view origin) {
  try {
    return from_node(YAML::Load(std::string(yaml)), origin, true);
  } catch (const YAML::Exception& e) {
    throw Exception(config_error(origin, e.mark, e.msg));
  }
}

Config Config::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "cannot read config file '" + path.string() + "'"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path.string());
}

Config Config::section(std::string_view name) const {
  const auto it = sections.find(std::string(name));
  if (it == sections.end()) {
    std::string known;
    for (const auto& [section_name, unused] : sections) {
      known += known.empty() ? "" : ", ";
      known += section_name;
    }
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "no config section '" + std::string(name) +
                              "' (sections: " + (known.empty() ? "none" : known) + ")"));
  }
  Config merged = *this;
  merged.sections.clear();
  const Config& own = it->second;
  if (!own.brokers.empty()) merged.brokers = own.brokers;
  if (!own.group_id.empty()) merged.group_id = own.group_id;
  if (!own.client_id.empty()) merged.client_id = own.client_id;
  if (!own.registry.empty()) merged.registry = own.registry;
  for (const auto& [channel, type] : own.channels) merged.channels[channel] = type;
  if (!own.consume.empty()) merged.consume = own.consume;
  if (!own.produce.empty()) merged.produce = own.produce;
  for (const auto& [property, value] : own.properties) merged.properties[property] = value;
  return merged;
}

void Config::bind_channels(ChannelRegistry& registry) const {
  for (const auto& [channel, type] : channels) registry.bind(channel, type);
}

std::string_view to_string(BrokerSource source) noexcept {
  switch (source) {
    case BrokerSource::explicit_list: return "command line";
    case BrokerSource::environment: return "CORPS_BROKERS";
    case BrokerSource::config_file: return "config file";
    case BrokerSource::address_file: return "corps broker address file";
    case BrokerSource::embedded: return "embedded";
  }
  return "unknown";
}

Brokers::Brokers(std::string bootstrap, BrokerSource source)
    : bootstrap_(std::move(bootstrap)), source_(source) {}

Brokers::Brokers(std::unique_ptr<EmbeddedBroker> embedded)
    : bootstrap_(embedded->bootstrap_servers()),
      source_(BrokerSource::embedded),
      embedded_(std::move(embedded)) {}

std::optional<Brokers> Brokers::find(std::string_view explicit_list, std::string_view from_config) {
  if (!explicit_list.empty())
    return Brokers{std::string(explicit_list), BrokerSource::explicit_list};
  if (const char* env = std::getenv("CORPS_BROKERS"); env != nullptr && *env != '\0') {
    return Brokers{env, BrokerSource::environment};
  }
  if (!from_config.empty()) return Brokers{std::string(from_config), BrokerSource::config_file};
  if (auto address = read_broker_address_file(); !address.empty()) {
    return Brokers{std::move(address), BrokerSource::address_file};
  }
  return std::nullopt;
}

Brokers Brokers::resolve(std::string_view explicit_list, std::string_view from_config,
                         EmbeddedBrokerOptions embedded) {
  auto found = find(explicit_list, from_config);
  Brokers chosen =
      found ? std::move(*found) : Brokers(std::make_unique<EmbeddedBroker>(std::move(embedded)));
  logger()->info("brokers: {} ({})", chosen.bootstrap_servers(), to_string(chosen.source()));
  return chosen;
}

std::filesystem::path broker_address_file() {
  if (const char* file = std::getenv("CORPS_BROKER_FILE"); file != nullptr && *file != '\0') {
    return file;
  }
  return runtime_dir() / "broker";
}

namespace {

// The address file's lines: the address, the broker's process id, and (from
// brokers that take topic requests) the control URL.
struct AddressFile {
  std::string address;
  std::string control_url;
};

// The address file of a broker that still runs, or nullopt.
std::optional<AddressFile> read_live_address_file() {
  std::ifstream in(broker_address_file());
  AddressFile file;
  long pid = 0;
  if (!(in >> file.address >> pid) || pid <= 0) return std::nullopt;
  // A broker that died without cleaning up leaves a stale file behind.
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return std::nullopt;
  if (!(in >> file.control_url)) file.control_url.clear();
  return file;
}

}  // namespace

std::string read_broker_address_file() {
  const auto file = read_live_address_file();
  return file ? file->address : std::string();
}

std::string embedded_broker_control_url(std::string_view bootstrap) {
  const auto file = read_live_address_file();
  return file && file->address == bootstrap ? file->control_url : std::string();
}

void write_broker_address_file(std::string_view bootstrap, std::string_view control_url) {
  const auto path = broker_address_file();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const auto temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << bootstrap << '\n' << ::getpid() << '\n';
    if (!control_url.empty()) out << control_url << '\n';
    if (!out) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "cannot write the broker address file '" + path.string() + "'"));
    }
  }
  // Readers never see a half-written file.
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    throw Exception(
        Error(Errc::invalid_argument, Stage::config,
              "cannot write the broker address file '" + path.string() + "': " + ec.message()));
  }
}

void remove_broker_address_file() noexcept {
  const auto path = broker_address_file();
  std::ifstream in(path);
  std::string address;
  long pid = 0;
  if (in >> address >> pid && pid == ::getpid()) {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
}

bool is_embedded_broker(std::string_view bootstrap) {
  if (bootstrap.empty()) return false;
  if (detail::runs_embedded_broker(bootstrap)) return true;
  if (const char* parents = std::getenv(embedded_broker_variable);
      parents != nullptr && bootstrap == parents) {
    return true;
  }
  return read_broker_address_file() == bootstrap;
}

}  // namespace corps
