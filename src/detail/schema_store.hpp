// The embedded registry's state: subjects, their versions, schema ids and
// compatibility levels, with the rules a registry applies to them. Kept in
// memory, rebuilt from the `_schemas` topic's records (the same key and
// value JSON Confluent's registry writes there), and changed only by
// applying such a record, after it is stored: a change the topic did not
// take changes nothing.
//
// A request it refuses throws RegistryRefusal, carrying the HTTP status and
// the registry error code the REST API answers with.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "corps/schema_registry.hpp"

namespace corps::detail {

/// A request the registry refuses, as the REST API reports it.
struct RegistryRefusal : std::runtime_error {
  RegistryRefusal(int http_status, int error_code, const std::string& message)
      : std::runtime_error(message), http_status(http_status), error_code(error_code) {}
  int http_status;
  int error_code;
};

/// One record of the `_schemas` topic: its key and value (null value: a
/// tombstone).
struct SchemasRecord {
  nlohmann::json key;
  std::optional<nlohmann::json> value;
};

/// Which versions a read sees: the live ones, or also those softly deleted
/// (the REST API's `?deleted=true`).
enum class Deleted { hidden, included };

class SchemaStore {
 public:
  explicit SchemaStore(CompatibilityLevel default_level) : default_level_(default_level) {}

  /// Applies a record read from, or just written to, the topic: a version
  /// (marked deleted or not), a tombstone that removes one, or a level.
  /// Records of kinds this store does not keep (NOOP, DELETE_SUBJECT, ...)
  /// are skipped.
  void apply(const SchemasRecord& record);

  /// What registering `schema` under `subject` means: the existing version
  /// if a live version of the subject has this schema already (no record),
  /// else the record that adds it, under the id the schema has in any
  /// subject and the version after the subject's last (deleted or not).
  /// Schemas are compared as Confluent's registry compares them: in
  /// canonical form (canonical_protobuf_schema). Refuses an invalid schema
  /// (42201), a reference to a version that does not exist (42201) or an
  /// incompatible one (409).
  struct Registration {
    std::int32_t id = 0;
    int version = 0;
    std::optional<SchemasRecord> record;  // to store, then apply
  };
  [[nodiscard]] Registration plan_registration(const std::string& subject,
                                               const Schema& schema) const;

  /// What deleting does: the versions it deletes and the records that do
  /// it. Soft deletion marks live versions deleted: they leave every read
  /// but `Deleted::included`, and their ids still name their schemas.
  /// Permanent deletion removes versions already softly deleted (tombstones);
  /// an id no version holds any longer is gone. Ids and version numbers are
  /// never given again. Refuses, with Confluent's codes: a subject or
  /// version that does not exist (40401 / 40402), a soft deletion of what is
  /// deleted already (40404 / 40406), a permanent deletion of what is not
  /// (40405 / 40407), and deleting a version another schema references
  /// (42206).
  struct Deletion {
    std::vector<int> versions;
    std::vector<SchemasRecord> records;  // to store, then apply, in order
  };
  [[nodiscard]] Deletion plan_subject_deletion(const std::string& subject, bool permanent) const;
  /// `version` nullopt: the latest (live, or for a permanent deletion, any).
  [[nodiscard]] Deletion plan_version_deletion(const std::string& subject,
                                               std::optional<int> version, bool permanent) const;

  /// The live version of `subject` holding `schema` (compared in canonical
  /// form), with the schema as registered; refuses 40401 / 40403.
  [[nodiscard]] RegisteredSchema lookup(const std::string& subject, const Schema& schema) const;
  /// Whether `id` names `schema` (compared in canonical form).
  [[nodiscard]] bool id_names(std::int32_t id, const Schema& schema) const;
  /// The schema with `id`; refuses 40403.
  [[nodiscard]] const Schema& schema_by_id(std::int32_t id) const;
  /// The subjects and live versions holding `id`.
  [[nodiscard]] std::vector<std::pair<std::string, int>> versions_of_id(std::int32_t id) const;
  /// A version (nullopt: the latest); refuses 40401 / 40402.
  [[nodiscard]] RegisteredSchema version(const std::string& subject, std::optional<int> version,
                                         Deleted deleted = Deleted::hidden) const;
  /// The versions of `subject`, ascending; refuses 40401.
  [[nodiscard]] std::vector<int> versions(const std::string& subject,
                                          Deleted deleted = Deleted::hidden) const;
  [[nodiscard]] std::vector<std::string> subjects(Deleted deleted = Deleted::hidden) const;

  /// What stops `schema` following `subject`'s latest live version (or
  /// `against`) under the subject's level; checks against every live
  /// version for a transitive level.
  [[nodiscard]] std::vector<std::string> compatibility_problems(
      const std::string& subject, const Schema& schema, std::optional<int> against = {}) const;

  /// The level of `subject` (nullopt: the default); for a subject with none
  /// of its own, the default if `fall_back`, else refuses 40408.
  [[nodiscard]] CompatibilityLevel level(const std::optional<std::string>& subject,
                                         bool fall_back = true) const;
  /// The record that sets `subject`'s level (nullopt: the default).
  [[nodiscard]] static SchemasRecord level_record(const std::optional<std::string>& subject,
                                                  CompatibilityLevel level);

 private:
  struct Version {
    int version = 0;
    std::int32_t id = 0;
    bool deleted = false;
  };
  struct Stored {
    Schema schema;
    std::string canonical;  // canonical_protobuf_schema(schema)
  };
  // The subject's versions a read sees; refuses 40401 when there are none.
  [[nodiscard]] std::vector<Version> versions_or_refuse(const std::string& subject,
                                                        Deleted deleted) const;
  [[nodiscard]] Schema fetch_reference(const SchemaReference& reference) const;
  [[nodiscard]] std::vector<std::string> problems_against(const std::string& subject,
                                                          const Schema& schema,
                                                          const std::vector<Version>& older,
                                                          CompatibilityLevel level) const;
  // Refuses 42206 if a schema (other than those of `subject` among
  // `leaving`) imports `subject`'s version `version`.
  void refuse_if_referenced(const std::string& subject, int version,
                            const std::vector<int>& leaving, Deleted deleted) const;
  [[nodiscard]] SchemasRecord version_record(const std::string& subject, const Version& version,
                                             bool permanent) const;

  CompatibilityLevel default_level_;
  std::map<std::string, CompatibilityLevel> subject_levels_;
  std::map<std::int32_t, Stored> schemas_;
  std::map<std::string, std::vector<Version>> subjects_;  // ascending versions
  std::int32_t last_id_ = 0;
};

/// A schema as JSON ({schema, schemaType, references}) and back; the REST
/// API's request and answer bodies and the topic's values use this shape.
[[nodiscard]] nlohmann::json schema_json(const Schema& schema);
/// Throws RegistryRefusal (422, 42201 / 422) for a body without "schema".
[[nodiscard]] Schema schema_from_json(const nlohmann::json& body);

}  // namespace corps::detail
