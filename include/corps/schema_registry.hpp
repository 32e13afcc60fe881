// A Schema Registry client: Confluent's REST API, as Confluent's registry,
// Karapace, Apicurio (in its Confluent mode), Redpanda and corps's own
// EmbeddedSchemaRegistry serve it.
//
// It registers protobuf schemas (each imported file under a subject of its
// own, referenced by name, as Confluent's serializers do), looks schemas up
// by id, and checks a schema against its subject's compatibility rules. What
// it has fetched or registered it keeps: a schema id never changes meaning,
// so a registry that goes down does not stop records whose ids are known.
//
// Every failure is a corps::Exception with Stage::schema:
// registry_unreachable (no answer in time, after the retries), schema_not_found
// (40401 subject, 40402 version, 40403 schema), invalid_schema (42201, or a
// schema this client cannot build), incompatible_schema (409), or
// invalid_argument for a bad URL or option, or an answer that is not the API's.
#pragma once

#include <google/protobuf/descriptor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "corps/confluent_framing.hpp"

namespace corps {

/// A schema's import, as the registry records it: the import's file name,
/// and the subject and version it is registered under.
struct SchemaReference {
  std::string name;
  std::string subject;
  int version = 0;
  friend bool operator==(const SchemaReference&, const SchemaReference&) = default;
};

/// A schema as a registry holds it. For protobuf, `schema` is the .proto
/// file's text, or (as confluent-kafka for Python sends it) a base64
/// serialized FileDescriptorProto; registries and corps take both.
struct Schema {
  std::string schema;
  std::string schema_type = "PROTOBUF";
  std::vector<SchemaReference> references;
  friend bool operator==(const Schema&, const Schema&) = default;
};

/// One version of a subject.
struct RegisteredSchema {
  std::string subject;
  int version = 0;
  std::int32_t id = 0;
  Schema schema;
};

/// How a subject's schemas may change from version to version.
enum class CompatibilityLevel {
  none,                 ///< anything goes
  backward,             ///< the new schema reads what the last one wrote (default)
  backward_transitive,  ///< ... what every earlier one wrote
  forward,              ///< the last schema reads what the new one writes
  forward_transitive,   ///< every earlier schema reads what the new one writes
  full,                 ///< backward and forward
  full_transitive,      ///< backward and forward, against every earlier one
};

/// The registry's name for a level ("BACKWARD", "FULL_TRANSITIVE", ...).
[[nodiscard]] std::string_view to_string(CompatibilityLevel level) noexcept;
/// The level named `name` (any case), or nullopt.
[[nodiscard]] std::optional<CompatibilityLevel> compatibility_level_named(std::string_view name);

/// How a channel's schemas are named in the registry (Confluent's
/// subject.name.strategy).
enum class SubjectNameStrategy {
  topic,         ///< "<topic>-value": one type per topic (the default)
  record,        ///< "<full type name>": a type shared by many topics
  topic_record,  ///< "<topic>-<full type name>": several types on one topic
};

/// The subject a value of `full_type_name` on `topic` is registered under.
[[nodiscard]] std::string subject_name(SubjectNameStrategy strategy, std::string_view topic,
                                       std::string_view full_type_name);

class SchemaRegistryClient;

/// How a Producer frames the channels bound with WireFormat::confluent
/// (Confluent's serializer settings).
struct SerializerOptions {
  /// The registry. Required when a channel is bound with
  /// WireFormat::confluent; share one client among a process's producers
  /// and consumers (it caches).
  std::shared_ptr<SchemaRegistryClient> client;
  /// How each channel's subject is named.
  SubjectNameStrategy subject_name_strategy = SubjectNameStrategy::topic;
  /// Register a channel's schema when its subject lacks it, once the
  /// subject's compatibility rules accept it (Errc::incompatible_schema,
  /// naming the subject and each problem, otherwise). Off: the schema must
  /// be registered already (Errc::schema_not_found otherwise).
  bool auto_register = true;
  /// How the message indexes are written: Confluent's zigzag (Java, Go,
  /// .NET, confluent-kafka for Python from 1.8), or plain for readers on
  /// confluent-kafka for Python before 1.8 (Debian bookworm's 1.7.0). The
  /// first message of a file, [0], is the same byte either way.
  MessageIndexEncoding index_encoding = MessageIndexEncoding::zigzag;
};

/// Where the registry is and how to talk to it.
struct SchemaRegistryOptions {
  /// "http://host:port" or "https://host:port"; a comma-separated list is
  /// tried in order.
  std::string url;
  /// HTTP basic authentication ("user" and "password"), if set.
  std::optional<std::pair<std::string, std::string>> basic_auth;
  /// A CA bundle for https, instead of the system's.
  std::string tls_ca_file;
  /// Whether https checks the registry's certificate (leave on).
  bool tls_verify = true;
  /// How long one request may take.
  std::chrono::milliseconds request_timeout{10'000};
  /// How often a request that got no answer, or a 5xx, is retried, with
  /// exponential backoff from 100 ms.
  int retries = 3;
  /// The largest answer read; a larger one fails (Errc::too_large) without
  /// being kept. Answers are never inflated: a compressed one fails too.
  std::size_t max_response_bytes = std::size_t{16} << 20;
};

/// Talks to one registry. Thread-safe; share one per process (its caches
/// are the point).
class SchemaRegistryClient {
 public:
  /// Throws corps::Exception (Stage::schema, invalid_argument) for a URL
  /// that is not http(s).
  explicit SchemaRegistryClient(SchemaRegistryOptions options);
  ~SchemaRegistryClient();
  SchemaRegistryClient(const SchemaRegistryClient&) = delete;
  SchemaRegistryClient& operator=(const SchemaRegistryClient&) = delete;

  /// The registry's URL as given.
  [[nodiscard]] const std::string& url() const noexcept;

  /// Registers `schema` under `subject` and returns its id; a schema the
  /// subject already has keeps its id. Fails with incompatible_schema if
  /// the subject's compatibility level refuses it.
  std::int32_t register_schema(const std::string& subject, const Schema& schema);

  /// Registers `file`, each of its imports first under a subject named
  /// after the import's file name (Confluent's default), and returns the
  /// id of `file` under `subject`. Imports the registry already has are not
  /// sent again.
  std::int32_t register_file(const std::string& subject,
                             const google::protobuf::FileDescriptor& file);

  /// `file` as a registry schema: its .proto text, and a reference for each
  /// import (protobuf's own google/protobuf/ files aside, which every
  /// registry knows), each under a subject named after the import's file.
  /// With `register_imports` the imports are registered first (and theirs
  /// before them); without, they must be registered already
  /// (schema_not_found otherwise).
  [[nodiscard]] Schema file_schema(const google::protobuf::FileDescriptor& file,
                                   bool register_imports = true);

  /// The id `schema` has under `subject`, without registering it, or
  /// nullopt if the subject does not have it.
  [[nodiscard]] std::optional<RegisteredSchema> find(const std::string& subject,
                                                     const Schema& schema);

  /// The schema with `id`: cached after the first fetch.
  [[nodiscard]] Schema schema_by_id(std::int32_t id);

  /// A version of `subject` (nullopt: the latest).
  [[nodiscard]] RegisteredSchema version(const std::string& subject,
                                         std::optional<int> version = std::nullopt);

  /// Every subject, sorted.
  [[nodiscard]] std::vector<std::string> subjects();

  /// Whether `schema` may become `subject`'s next version. Empty if it may;
  /// otherwise what is incompatible, one line each (as the registry says
  /// it, when it says). A subject with no versions accepts anything.
  [[nodiscard]] std::vector<std::string> compatibility_problems(const std::string& subject,
                                                                const Schema& schema);

  /// The compatibility level of `subject` (nullopt: the registry's default).
  [[nodiscard]] CompatibilityLevel compatibility(const std::optional<std::string>& subject = {});
  /// Sets the compatibility level of `subject` (nullopt: the default).
  void set_compatibility(CompatibilityLevel level, const std::optional<std::string>& subject = {});

  /// The file the schema with `id` describes, built with its references
  /// into a pool of its own (cached): for decoding records of types this
  /// program was not compiled with.
  [[nodiscard]] std::shared_ptr<const google::protobuf::FileDescriptor> file_by_id(std::int32_t id);

  /// A default instance of the message `indexes` names in the schema with
  /// `id` (the path a Confluent-framed record carries), made from the
  /// registry's schema alone (a DynamicMessage type); cached. Holding it
  /// keeps its descriptors alive. Fails (Stage::schema) with
  /// schema_not_found if the registry has no such id or its file no message
  /// at `indexes`, registry_unreachable if no registry answered.
  ///
  /// An id whose look-up failed is not asked for again at once: for a
  /// second, doubling with each failure up to a minute, it fails at once
  /// with the same error, saying so; a success forgets the failures.
  [[nodiscard]] std::shared_ptr<const google::protobuf::Message> message_by_id(
      std::int32_t id, std::span<const int> indexes);
  /// As above, asking the registry only until `deadline` (each request's
  /// timeout and the retries shortened to fit): a consumer's poll keeps its
  /// own timeout. Past it, registry_unreachable.
  [[nodiscard]] std::shared_ptr<const google::protobuf::Message> message_by_id(
      std::int32_t id, std::span<const int> indexes,
      std::chrono::steady_clock::time_point deadline);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
