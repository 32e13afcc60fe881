#include "detail/registry_api.hpp"

#include <charconv>
#include <optional>

#include "detail/utf8.hpp"

namespace corps::detail {

using nlohmann::json;

namespace {

constexpr const char* content_type = "application/vnd.schemaregistry.v1+json";

json registered_json(const RegisteredSchema& registered) {
  json out = schema_json(registered.schema);
  out["subject"] = registered.subject;
  out["version"] = registered.version;
  out["id"] = registered.id;
  return out;
}

json body_of(const HttpRequest& request) {
  try {
    return json::parse(request.body);
  } catch (const json::exception& e) {
    throw RegistryRefusal(400, 400, std::string("the request body is not JSON: ") + e.what());
  }
}

// "latest", -1, or a version number.
std::optional<int> version_named(const std::string& text) {
  if (text == "latest" || text == "-1") return std::nullopt;
  int version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    throw RegistryRefusal(422, 42202,
                          "The specified version '" + text +
                              "' is not a valid version id. Allowed values are between [1, "
                              "2^31-1] and the string \"latest\"");
  }
  return version;
}

std::int32_t id_named(const std::string& text) {
  std::int32_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw RegistryRefusal(404, 40403, "Schema " + text + " not found.");
  }
  return id;
}

CompatibilityLevel level_in(const json& body) {
  const auto named =
      body.is_object() && body.contains("compatibility") && body["compatibility"].is_string()
          ? compatibility_level_named(body["compatibility"].get<std::string>())
          : std::nullopt;
  if (!named) {
    throw RegistryRefusal(422, 42203,
                          "Invalid compatibility level. Valid values are none, backward, forward, "
                          "full, backward_transitive, forward_transitive, and full_transitive");
  }
  return *named;
}

// What a read sees: `?deleted=true` includes softly deleted versions.
Deleted deleted_in(const HttpRequest& request) {
  return request.param("deleted") == "true" ? Deleted::included : Deleted::hidden;
}

bool permanent_in(const HttpRequest& request) {
  return request.param("permanent") == "true";
}

}  // namespace

RegistryApi::RegistryApi(CompatibilityLevel default_level, SchemasLog& log)
    : log_(log), store_(default_level) {
  log_.catch_up(store_);
}

HttpResponse RegistryApi::serve(const HttpRequest& request) {
  json body;
  int status = 200;
  try {
    body = route(request);
  } catch (const RegistryRefusal& refusal) {
    body = {{"error_code", refusal.error_code}, {"message", refusal.what()}};
    status = refusal.http_status;
  } catch (const std::exception& e) {
    body = {{"error_code", 50001},
            {"message", std::string("Error in the backend data store: ") + e.what()}};
    status = 500;
  }
  // Whatever a message quotes, the answer is JSON: a byte that is not UTF-8
  // is written as U+FFFD rather than failing the answer.
  return HttpResponse{
      status, content_type, body.dump(-1, ' ', false, json::error_handler_t::replace), {}};
}

// The routes of Confluent's REST API that serializers, deserializers and
// operators use (registering, reading, deleting, compatibility, levels).
// Paths are matched segment by segment, each decoded on its own: a
// subject holding '/' (an import's file name) comes encoded as %2F, and
// "/subjects/a%2Fversions" names subject "a/versions", not subject "a".
json RegistryApi::route(const HttpRequest& request) {
  const auto& path = request.path;
  const std::string& method = request.method;
  const auto is = [&](std::initializer_list<std::string_view> shape) {
    if (path.size() != shape.size()) return false;
    std::size_t i = 0;
    for (const auto part : shape) {
      if (!part.empty() && path[i] != part) return false;
      ++i;
    }
    return true;
  };
  // Every path this registry knows, and the methods each takes.
  const auto only = [&](std::initializer_list<std::string_view> methods) {
    for (const auto allowed : methods) {
      if (method == allowed) return;
    }
    throw RegistryRefusal(405, 405, "HTTP 405: " + method + " is not allowed here");
  };
  // Subjects are JSON strings, in answers and in the log: a path segment
  // that is not UTF-8 names nothing that can be kept.
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (!is_valid_utf8(path[i])) {
      throw RegistryRefusal(400, 400,
                            "path segment " + std::to_string(i + 1) + " is not UTF-8 once decoded");
    }
  }
  if (path.empty()) {
    only({"GET"});
    return json::object();
  }
  if (is({"schemas", "types"})) {
    only({"GET"});
    return json::array({"PROTOBUF"});
  }
  if (is({"subjects"})) {
    only({"GET"});
    std::lock_guard lock(mutex_);
    return json(store_.subjects(deleted_in(request)));
  }
  if (is({"subjects", "", "versions", "", "schema"})) {
    only({"GET"});
    std::lock_guard lock(mutex_);
    return json(store_.version(path[1], version_named(path[3]), deleted_in(request)).schema.schema);
  }
  if (is({"subjects", "", "versions", ""})) {
    only({"GET", "DELETE"});
    std::lock_guard lock(mutex_);
    if (method == "DELETE") {
      log_.catch_up(store_);
      const auto deletion =
          store_.plan_version_deletion(path[1], version_named(path[3]), permanent_in(request));
      keep(deletion.records);
      return json(deletion.versions.front());
    }
    return registered_json(store_.version(path[1], version_named(path[3]), deleted_in(request)));
  }
  if (is({"subjects", "", "versions"})) {
    only({"GET", "POST"});
    if (method == "GET") {
      std::lock_guard lock(mutex_);
      return json(store_.versions(path[1], deleted_in(request)));
    }
    const Schema schema = schema_from_json(body_of(request));
    std::lock_guard lock(mutex_);
    log_.catch_up(store_);
    const auto registration = store_.plan_registration(path[1], schema);
    if (!registration.record) return json{{"id", registration.id}};
    log_.append(store_, *registration.record);
    // The answer is what the log holds, read back.
    const auto registered = store_.lookup(path[1], schema);
    if (!store_.id_names(registered.id, schema)) {
      throw RegistryRefusal(500, 50001,
                            "Error in the backend data store: id " + std::to_string(registered.id) +
                                " of " + log_.name() +
                                " names another schema (a second registry writes there); "
                                "not answered");
    }
    return json{{"id", registered.id}};
  }
  if (is({"subjects", ""})) {
    only({"POST", "DELETE"});
    if (method == "DELETE") {
      std::lock_guard lock(mutex_);
      log_.catch_up(store_);
      const auto deletion = store_.plan_subject_deletion(path[1], permanent_in(request));
      keep(deletion.records);
      return json(deletion.versions);
    }
    const Schema schema = schema_from_json(body_of(request));
    std::lock_guard lock(mutex_);
    return registered_json(store_.lookup(path[1], schema));
  }
  if (is({"schemas", "ids", "", "versions"})) {
    only({"GET"});
    std::lock_guard lock(mutex_);
    json out = json::array();
    for (const auto& [subject, version] : store_.versions_of_id(id_named(path[2]))) {
      out.push_back({{"subject", subject}, {"version", version}});
    }
    return out;
  }
  if (is({"schemas", "ids", ""})) {
    only({"GET"});
    const auto id = id_named(path[2]);
    std::lock_guard lock(mutex_);
    try {
      return schema_json(store_.schema_by_id(id));
    } catch (const RegistryRefusal&) {
      // Written since this registry last read (by another registry, or a
      // write of its own whose answer it missed)?
      log_.catch_up(store_);
      return schema_json(store_.schema_by_id(id));
    }
  }
  if (is({"compatibility", "subjects", "", "versions", ""}) ||
      is({"compatibility", "subjects", "", "versions"})) {
    only({"POST"});
    std::optional<int> against;
    if (path.size() == 5) {
      std::lock_guard lock(mutex_);  // "latest" is the version it is now; unknown ones are 404
      against = store_.version(path[2], version_named(path[4])).version;
    }
    const Schema schema = schema_from_json(body_of(request));
    std::lock_guard lock(mutex_);
    const auto problems = store_.compatibility_problems(path[2], schema, against);
    json out{{"is_compatible", problems.empty()}};
    if (request.param("verbose") == "true") out["messages"] = problems;
    return out;
  }
  if (is({"config"}) || is({"config", ""})) {
    only({"GET", "PUT"});
    const std::optional<std::string> subject =
        path.size() == 2 ? std::optional<std::string>(path[1]) : std::nullopt;
    if (method == "GET") {
      std::lock_guard lock(mutex_);
      const bool fall_back = request.param("defaultToGlobal") == "true";
      return json{{"compatibilityLevel", to_string(subject ? store_.level(*subject, fall_back)
                                                           : store_.level(std::nullopt))}};
    }
    const auto level = level_in(body_of(request));
    std::lock_guard lock(mutex_);
    log_.append(store_, SchemaStore::level_record(subject, level));
    return json{{"compatibility", to_string(level)}};
  }
  throw RegistryRefusal(404, 404, "HTTP 404: no such resource " + request.raw_path);
}

void RegistryApi::keep(const std::vector<SchemasRecord>& records) {
  for (const auto& record : records) log_.append(store_, record);
}

}  // namespace corps::detail
