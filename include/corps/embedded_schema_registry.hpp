// EmbeddedSchemaRegistry: a schema registry inside this process, for
// development and tests, as EmbeddedBroker is a broker.
//
// It serves the part of Confluent's REST API that serializers and
// deserializers use (registering, looking up by subject and by id,
// versions, compatibility tests and levels), for PROTOBUF schemas, and
// keeps every change in a topic of the brokers it is attached to
// (`_schemas`, compacted, as Confluent's registry does), so a registry
// started again on the same brokers has every schema under the same id.
// Compatibility levels NONE, BACKWARD (the default), FORWARD, FULL and
// their transitive forms, by the rules in corps/schema_compatibility.hpp.
//
// Its limits: one registry per `_schemas` topic (it reads the topic when it
// starts, not what another registry writes later); no deletes; no
// authentication (it listens on 127.0.0.1 by default).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "corps/http_server.hpp"
#include "corps/schema_registry.hpp"

namespace corps {

struct EmbeddedSchemaRegistryOptions {
  /// The brokers whose `topic` keeps the registry's state. Required.
  std::string brokers;
  /// The topic that keeps the registry's state.
  std::string topic = "_schemas";
  /// Where to listen; port 0 picks a free one.
  std::string host = "127.0.0.1";
  int port = 0;
  /// The level of subjects that set none, until a PUT /config changes it.
  CompatibilityLevel default_compatibility = CompatibilityLevel::backward;
  /// How long to wait for the brokers: to read the topic at start, to store
  /// each change.
  std::chrono::milliseconds timeout{15'000};
  /// What a client may make the server hold (corps/http_server.hpp): a
  /// request body of 1 MiB at most, and never a compressed one.
  HttpLimits limits;
};

/// A registry serving HTTP on a thread of its own. Thread-safe. Not
/// copyable; movable.
class EmbeddedSchemaRegistry {
 public:
  /// Reads the topic, then listens. Throws corps::Exception (Stage::schema)
  /// if the topic cannot be read or the port cannot be bound.
  explicit EmbeddedSchemaRegistry(EmbeddedSchemaRegistryOptions options);
  /// Stops listening; what was stored stays in the topic.
  ~EmbeddedSchemaRegistry();
  EmbeddedSchemaRegistry(EmbeddedSchemaRegistry&&) noexcept;
  EmbeddedSchemaRegistry& operator=(EmbeddedSchemaRegistry&&) noexcept;

  /// "http://127.0.0.1:<port>".
  [[nodiscard]] const std::string& url() const noexcept;
  [[nodiscard]] int port() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
