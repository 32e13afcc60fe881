#include "detail/schema_store.hpp"

#include <algorithm>

#include "corps/error.hpp"
#include "corps/schema_compatibility.hpp"
#include "detail/registry_schema.hpp"

namespace corps::detail {

using nlohmann::json;

namespace {

[[noreturn]] void refuse(int http_status, int error_code, const std::string& message) {
  throw RegistryRefusal(http_status, error_code, message);
}

[[noreturn]] void subject_not_found(const std::string& subject) {
  refuse(404, 40401, "Subject '" + subject + "' not found.");
}

// The name a subject's schema is built under: a FileDescriptorProto names
// itself; .proto text is named after its subject.
std::string file_name_of(const std::string& subject) {
  return subject + ".proto";
}

std::string level_name(CompatibilityLevel level) {
  return std::string(to_string(level));
}

}  // namespace

json schema_json(const Schema& schema) {
  json references = json::array();
  for (const auto& r : schema.references) {
    references.push_back({{"name", r.name}, {"subject", r.subject}, {"version", r.version}});
  }
  return {
      {"schema", schema.schema}, {"schemaType", schema.schema_type}, {"references", references}};
}

Schema schema_from_json(const json& body) {
  if (!body.is_object() || !body.contains("schema") || !body["schema"].is_string()) {
    refuse(422, 42201, "Invalid schema: the request has no \"schema\" string");
  }
  Schema schema;
  schema.schema = body["schema"].get<std::string>();
  if (body.contains("schemaType") && body["schemaType"].is_string()) {
    schema.schema_type = body["schemaType"].get<std::string>();
  } else {
    schema.schema_type = "AVRO";  // the REST API's default when none is named
  }
  if (body.contains("references") && body["references"].is_array()) {
    for (const auto& r : body["references"]) {
      if (!r.is_object() || !r.contains("name") || !r["name"].is_string() ||
          !r.contains("subject") || !r["subject"].is_string() || !r.contains("version") ||
          !r["version"].is_number_integer()) {
        refuse(422, 42201, "Invalid schema: a reference needs a name, a subject and a version");
      }
      schema.references.push_back({.name = r["name"].get<std::string>(),
                                   .subject = r["subject"].get<std::string>(),
                                   .version = r["version"].get<int>()});
    }
  }
  return schema;
}

void SchemaStore::apply(const SchemasRecord& record) {
  const std::string keytype = record.key.value("keytype", "");
  if (keytype == "CONFIG") {
    const auto& subject = record.key.value("subject", json());
    std::optional<CompatibilityLevel> level;
    if (record.value && record.value->contains("compatibilityLevel")) {
      level = compatibility_level_named((*record.value)["compatibilityLevel"].get<std::string>());
    }
    if (subject.is_string()) {
      if (level) {
        subject_levels_[subject.get<std::string>()] = *level;
      } else {
        subject_levels_.erase(subject.get<std::string>());
      }
    } else if (level) {
      default_level_ = *level;
    }
    return;
  }
  if (keytype != "SCHEMA") return;
  if (!record.value) {
    // A tombstone: the version is deleted permanently, and its id with it
    // if no other version holds it.
    const auto subject = record.key.value("subject", std::string());
    const int number = record.key.value("version", 0);
    const auto found = subjects_.find(subject);
    if (found == subjects_.end()) return;
    auto& versions = found->second;
    const auto gone = std::find_if(versions.begin(), versions.end(),
                                   [&](const Version& v) { return v.version == number; });
    if (gone == versions.end()) return;
    const std::int32_t id = gone->id;
    versions.erase(gone);
    if (versions.empty()) subjects_.erase(found);
    const bool held = std::any_of(subjects_.begin(), subjects_.end(), [&](const auto& entry) {
      return std::any_of(entry.second.begin(), entry.second.end(),
                         [&](const Version& v) { return v.id == id; });
    });
    if (!held) schemas_.erase(id);
    return;
  }
  const json& value = *record.value;
  const std::string subject = value.at("subject").get<std::string>();
  const int number = value.at("version").get<int>();
  const auto id = value.at("id").get<std::int32_t>();
  if (!schemas_.contains(id)) {
    Schema schema = schema_from_json(value);
    std::string canonical = canonical_protobuf_schema(schema);
    schemas_.emplace(id, Stored{std::move(schema), std::move(canonical)});
  }
  last_id_ = std::max(last_id_, id);
  auto& versions = subjects_[subject];
  const auto at = std::lower_bound(versions.begin(), versions.end(), number,
                                   [](const Version& v, int n) { return v.version < n; });
  const Version version{.version = number, .id = id, .deleted = value.value("deleted", false)};
  if (at != versions.end() && at->version == number) {
    *at = version;
  } else {
    versions.insert(at, version);
  }
}

std::vector<SchemaStore::Version> SchemaStore::versions_or_refuse(const std::string& subject,
                                                                  Deleted deleted) const {
  std::vector<Version> out;
  if (const auto found = subjects_.find(subject); found != subjects_.end()) {
    for (const auto& v : found->second) {
      if (!v.deleted || deleted == Deleted::included) out.push_back(v);
    }
  }
  if (out.empty()) subject_not_found(subject);
  return out;
}

Schema SchemaStore::fetch_reference(const SchemaReference& reference) const {
  const auto found = subjects_.find(reference.subject);
  if (found != subjects_.end()) {
    for (const auto& v : found->second) {
      if (v.version == reference.version) return schemas_.at(v.id).schema;
    }
  }
  refuse(422, 42201,
         "Invalid schema: reference '" + reference.name + "' names subject '" + reference.subject +
             "' version " + std::to_string(reference.version) + ", which is not registered");
}

SchemaStore::Registration SchemaStore::plan_registration(const std::string& subject,
                                                         const Schema& schema) const {
  if (schema.schema_type != "PROTOBUF") {
    refuse(422, 42201,
           "Invalid schema: this registry keeps PROTOBUF schemas, not " + schema.schema_type);
  }
  const std::string canonical = canonical_protobuf_schema(schema);
  if (const auto found = subjects_.find(subject); found != subjects_.end()) {
    for (const auto& v : found->second) {
      if (!v.deleted && schemas_.at(v.id).canonical == canonical) {
        return {.id = v.id, .version = v.version, .record = std::nullopt};
      }
    }
  }
  try {
    (void)build_protobuf_schema(schema, file_name_of(subject),
                                [this](const SchemaReference& r) { return fetch_reference(r); });
  } catch (const Exception& e) {
    refuse(422, 42201, "Invalid schema: " + e.error().message());
  }
  const auto problems = compatibility_problems(subject, schema);
  if (!problems.empty()) {
    std::string message =
        "Schema being registered is incompatible with an earlier schema for subject \"" + subject +
        "\" (" + level_name(level(subject)) + "), details: ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    refuse(409, 409, message);
  }
  // The same schema keeps its id across subjects.
  std::int32_t id = last_id_ + 1;
  for (const auto& [existing_id, existing] : schemas_) {
    if (existing.canonical == canonical) id = existing_id;
  }
  // Version numbers go on after deleted ones.
  const auto found = subjects_.find(subject);
  const int version =
      found == subjects_.end() || found->second.empty() ? 1 : found->second.back().version + 1;
  json value = schema_json(schema);
  value["subject"] = subject;
  value["version"] = version;
  value["id"] = id;
  value["deleted"] = false;
  return {
      .id = id,
      .version = version,
      .record = SchemasRecord{
          .key = {{"keytype", "SCHEMA"}, {"subject", subject}, {"version", version}, {"magic", 1}},
          .value = std::move(value)}};
}

SchemasRecord SchemaStore::version_record(const std::string& subject, const Version& version,
                                          bool permanent) const {
  SchemasRecord record{.key = {{"keytype", "SCHEMA"},
                               {"subject", subject},
                               {"version", version.version},
                               {"magic", 1}},
                       .value = std::nullopt};
  if (!permanent) {
    json value = schema_json(schemas_.at(version.id).schema);
    value["subject"] = subject;
    value["version"] = version.version;
    value["id"] = version.id;
    value["deleted"] = true;
    record.value = std::move(value);
  }
  return record;
}

void SchemaStore::refuse_if_referenced(const std::string& subject, int version,
                                       const std::vector<int>& leaving, Deleted deleted) const {
  for (const auto& [user, versions] : subjects_) {
    for (const auto& v : versions) {
      if (v.deleted && deleted == Deleted::hidden) continue;
      if (user == subject &&
          std::find(leaving.begin(), leaving.end(), v.version) != leaving.end()) {
        continue;
      }
      for (const auto& r : schemas_.at(v.id).schema.references) {
        if (r.subject == subject && r.version == version) {
          refuse(422, 42206,
                 "Subject '" + subject + "' version " + std::to_string(version) +
                     " is referenced by subject '" + user + "' version " +
                     std::to_string(v.version) + " (as '" + r.name +
                     "'); delete that first. One or more references exist to the schema.");
        }
      }
    }
  }
}

SchemaStore::Deletion SchemaStore::plan_subject_deletion(const std::string& subject,
                                                         bool permanent) const {
  const auto all = versions_or_refuse(subject, Deleted::included);
  Deletion deletion;
  for (const auto& v : all) {
    if (!v.deleted) {
      if (permanent) {
        refuse(404, 40405,
               "Subject '" + subject +
                   "' was not deleted first before being permanently deleted: delete it "
                   "without permanent=true first");
      }
      deletion.versions.push_back(v.version);
    } else if (permanent) {
      deletion.versions.push_back(v.version);
    }
  }
  if (deletion.versions.empty()) {
    refuse(404, 40404,
           "Subject '" + subject + "' was soft deleted. Set permanent=true to delete permanently");
  }
  for (const int version : deletion.versions) {
    refuse_if_referenced(subject, version, deletion.versions,
                         permanent ? Deleted::included : Deleted::hidden);
  }
  for (const auto& v : all) {
    if (std::find(deletion.versions.begin(), deletion.versions.end(), v.version) !=
        deletion.versions.end()) {
      deletion.records.push_back(version_record(subject, v, permanent));
    }
  }
  return deletion;
}

SchemaStore::Deletion SchemaStore::plan_version_deletion(const std::string& subject,
                                                         std::optional<int> number,
                                                         bool permanent) const {
  const auto all = versions_or_refuse(subject, Deleted::included);
  std::optional<Version> target;
  if (!number) {
    for (const auto& v : all) {
      if (permanent || !v.deleted) target = v;
    }
    if (!target) subject_not_found(subject);
  } else {
    for (const auto& v : all) {
      if (v.version == *number) target = v;
    }
    if (!target) {
      refuse(404, 40402,
             "Version " + std::to_string(*number) + " not found for subject '" + subject + "'.");
    }
  }
  const std::string named = "Subject '" + subject + "' version " + std::to_string(target->version);
  if (permanent && !target->deleted) {
    refuse(404, 40407,
           named +
               " was not deleted first before being permanently deleted: delete it without "
               "permanent=true first");
  }
  if (!permanent && target->deleted) {
    refuse(404, 40406, named + " was soft deleted. Set permanent=true to delete permanently");
  }
  refuse_if_referenced(subject, target->version, {target->version},
                       permanent ? Deleted::included : Deleted::hidden);
  return {.versions = {target->version}, .records = {version_record(subject, *target, permanent)}};
}

RegisteredSchema SchemaStore::lookup(const std::string& subject, const Schema& schema) const {
  const std::string canonical = canonical_protobuf_schema(schema);
  for (const auto& v : versions_or_refuse(subject, Deleted::hidden)) {
    const auto& stored = schemas_.at(v.id);
    if (stored.canonical == canonical) {
      return {.subject = subject, .version = v.version, .id = v.id, .schema = stored.schema};
    }
  }
  refuse(404, 40403, "Schema not found under subject '" + subject + "'.");
}

bool SchemaStore::id_names(std::int32_t id, const Schema& schema) const {
  const auto found = schemas_.find(id);
  return found != schemas_.end() && found->second.canonical == canonical_protobuf_schema(schema);
}

const Schema& SchemaStore::schema_by_id(std::int32_t id) const {
  const auto found = schemas_.find(id);
  if (found == schemas_.end()) refuse(404, 40403, "Schema " + std::to_string(id) + " not found.");
  return found->second.schema;
}

std::vector<std::pair<std::string, int>> SchemaStore::versions_of_id(std::int32_t id) const {
  (void)schema_by_id(id);
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [subject, versions] : subjects_) {
    for (const auto& v : versions) {
      if (v.id == id && !v.deleted) out.emplace_back(subject, v.version);
    }
  }
  return out;
}

RegisteredSchema SchemaStore::version(const std::string& subject, std::optional<int> version,
                                      Deleted deleted) const {
  const auto versions = versions_or_refuse(subject, deleted);
  for (const auto& v : versions) {
    if (!version ? &v == &versions.back() : v.version == *version) {
      return {
          .subject = subject, .version = v.version, .id = v.id, .schema = schemas_.at(v.id).schema};
    }
  }
  refuse(404, 40402,
         "Version " + (version ? std::to_string(*version) : std::string("latest")) +
             " not found for subject '" + subject + "'.");
}

std::vector<int> SchemaStore::versions(const std::string& subject, Deleted deleted) const {
  std::vector<int> out;
  for (const auto& v : versions_or_refuse(subject, deleted)) out.push_back(v.version);
  return out;
}

std::vector<std::string> SchemaStore::subjects(Deleted deleted) const {
  std::vector<std::string> out;
  for (const auto& [subject, versions] : subjects_) {
    if (std::any_of(versions.begin(), versions.end(),
                    [&](const Version& v) { return !v.deleted || deleted == Deleted::included; })) {
      out.push_back(subject);
    }
  }
  return out;
}

std::vector<std::string> SchemaStore::problems_against(const std::string& subject,
                                                       const Schema& schema,
                                                       const std::vector<Version>& older,
                                                       CompatibilityLevel level) const {
  const auto fetch = [this](const SchemaReference& r) { return fetch_reference(r); };
  std::shared_ptr<const google::protobuf::FileDescriptor> newer;
  try {
    newer = build_protobuf_schema(schema, file_name_of(subject), fetch);
  } catch (const Exception& e) {
    refuse(422, 42201, "Invalid schema: " + e.error().message());
  }
  std::vector<std::string> problems;
  for (const auto& v : older) {
    const auto old_file =
        build_protobuf_schema(schemas_.at(v.id).schema, file_name_of(subject), fetch);
    for (auto& problem : corps::compatibility_problems(*old_file, *newer, level)) {
      problems.push_back("against version " + std::to_string(v.version) + ": " + problem);
    }
  }
  return problems;
}

std::vector<std::string> SchemaStore::compatibility_problems(const std::string& subject,
                                                             const Schema& schema,
                                                             std::optional<int> against) const {
  const auto found = subjects_.find(subject);
  if (found == subjects_.end() || std::all_of(found->second.begin(), found->second.end(),
                                              [](const Version& v) { return v.deleted; })) {
    return {};
  }
  const CompatibilityLevel subject_level = level(subject);
  std::vector<Version> older;
  if (against) {
    const auto v = version(subject, against);
    older.push_back({.version = v.version, .id = v.id});
  } else {
    older = versions_or_refuse(subject, Deleted::hidden);
    if (subject_level != CompatibilityLevel::backward_transitive &&
        subject_level != CompatibilityLevel::forward_transitive &&
        subject_level != CompatibilityLevel::full_transitive) {
      older.erase(older.begin(), older.end() - 1);
    }
  }
  return problems_against(subject, schema, older, subject_level);
}

CompatibilityLevel SchemaStore::level(const std::optional<std::string>& subject,
                                      bool fall_back) const {
  if (subject) {
    if (const auto found = subject_levels_.find(*subject); found != subject_levels_.end()) {
      return found->second;
    }
    if (!fall_back) {
      refuse(404, 40408,
             "Subject '" + *subject + "' does not have subject-level compatibility configured");
    }
  }
  return default_level_;
}

SchemasRecord SchemaStore::level_record(const std::optional<std::string>& subject,
                                        CompatibilityLevel level) {
  return {
      .key = {{"keytype", "CONFIG"}, {"subject", subject ? json(*subject) : json()}, {"magic", 0}},
      .value = json{{"compatibilityLevel", level_name(level)}}};
}

}  // namespace corps::detail
