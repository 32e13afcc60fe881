#include "corps/embedded_schema_registry.hpp"

#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>

#include "corps/error.hpp"
#include "corps/http_server.hpp"
#include "corps/logging.hpp"
#include "detail/schema_store.hpp"
#include "detail/schemas_topic.hpp"

namespace corps {

using detail::RegistryRefusal;
using nlohmann::json;

namespace {

constexpr const char* content_type = "application/vnd.schemaregistry.v1+json";

json registered_json(const RegisteredSchema& registered) {
  json out = detail::schema_json(registered.schema);
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

}  // namespace

struct EmbeddedSchemaRegistry::Impl {
  explicit Impl(EmbeddedSchemaRegistryOptions o)
      : options(std::move(o)),
        topic(options.brokers, options.topic, options.timeout),
        store(options.default_compatibility) {
    for (const auto& record : topic.read_new()) store.apply(record);
    HttpServerOptions http;
    http.host = options.host;
    http.port = options.port;
    http.limits = options.limits;
    http.name = "the schema registry";
    server.emplace(std::move(http), [this](const HttpRequest& request) { return serve(request); });
    logger()->info("schema registry at {} keeps its schemas in topic '{}' of {}", server->url(),
                   options.topic, options.brokers);
  }

  // Serves one request: refusals become the REST API's error bodies.
  HttpResponse serve(const HttpRequest& request) {
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
    return HttpResponse{status, content_type, body.dump(), {}};
  }

  // Applies what the topic holds that this registry has not read yet: the
  // writes of another registry on the same topic, and its own writes whose
  // outcome it never learnt, which it fences first (SchemasTopic::fence). An
  // id is handed out only after this, so it never names a second schema.
  void catch_up() {
    if (write_unsure) {
      topic.fence();
      write_unsure = false;
    }
    for (const auto& record : topic.read_new()) store.apply(record);
  }

  // Stores `record` in the topic, then reads it back into memory with what
  // came before it.
  void store_change(const detail::SchemasRecord& record) {
    try {
      topic.append(record);
    } catch (...) {
      write_unsure = true;  // it may land all the same
      throw;
    }
    catch_up();
  }

  // The routes of Confluent's REST API that serializers and deserializers
  // use. Paths are matched segment by segment, each decoded on its own: a
  // subject holding '/' (an import's file name) comes encoded as %2F, and
  // "/subjects/a%2Fversions" names subject "a/versions", not subject "a".
  json route(const HttpRequest& request) {
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
      std::lock_guard lock(mutex);
      return json(store.subjects());
    }
    if (is({"subjects", "", "versions", "", "schema"})) {
      only({"GET"});
      std::lock_guard lock(mutex);
      return json(store.version(path[1], version_named(path[3])).schema.schema);
    }
    if (is({"subjects", "", "versions", ""})) {
      only({"GET"});
      std::lock_guard lock(mutex);
      return registered_json(store.version(path[1], version_named(path[3])));
    }
    if (is({"subjects", "", "versions"})) {
      only({"GET", "POST"});
      if (method == "GET") {
        std::lock_guard lock(mutex);
        return json(store.versions(path[1]));
      }
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      catch_up();
      const auto registration = store.plan_registration(path[1], schema);
      if (!registration.record) return json{{"id", registration.id}};
      store_change(*registration.record);
      // The answer is what the topic holds, read back.
      const auto registered = store.lookup(path[1], schema);
      if (store.schema_by_id(registered.id) != schema) {
        throw RegistryRefusal(500, 50001,
                              "Error in the backend data store: id " +
                                  std::to_string(registered.id) + " of topic '" + topic.name() +
                                  "' names another schema (a second registry writes there); "
                                  "not answered");
      }
      return json{{"id", registered.id}};
    }
    if (is({"subjects", ""})) {
      only({"POST"});
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      return registered_json(store.lookup(path[1], schema));
    }
    if (is({"schemas", "ids", "", "versions"})) {
      only({"GET"});
      std::lock_guard lock(mutex);
      json out = json::array();
      for (const auto& [subject, version] : store.versions_of_id(id_named(path[2]))) {
        out.push_back({{"subject", subject}, {"version", version}});
      }
      return out;
    }
    if (is({"schemas", "ids", ""})) {
      only({"GET"});
      const auto id = id_named(path[2]);
      std::lock_guard lock(mutex);
      try {
        return detail::schema_json(store.schema_by_id(id));
      } catch (const RegistryRefusal&) {
        // Written since this registry last read (by another registry, or a
        // write of its own whose answer it missed)?
        catch_up();
        return detail::schema_json(store.schema_by_id(id));
      }
    }
    if (is({"compatibility", "subjects", "", "versions", ""}) ||
        is({"compatibility", "subjects", "", "versions"})) {
      only({"POST"});
      std::optional<int> against;
      if (path.size() == 5) {
        std::lock_guard lock(mutex);  // "latest" is the version it is now; unknown ones are 404
        against = store.version(path[2], version_named(path[4])).version;
      }
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      const auto problems = store.compatibility_problems(path[2], schema, against);
      json out{{"is_compatible", problems.empty()}};
      if (request.param("verbose") == "true") out["messages"] = problems;
      return out;
    }
    if (is({"config"}) || is({"config", ""})) {
      only({"GET", "PUT"});
      const std::optional<std::string> subject =
          path.size() == 2 ? std::optional<std::string>(path[1]) : std::nullopt;
      if (method == "GET") {
        std::lock_guard lock(mutex);
        const bool fall_back = request.param("defaultToGlobal") == "true";
        return json{{"compatibilityLevel", to_string(subject ? store.level(*subject, fall_back)
                                                             : store.level(std::nullopt))}};
      }
      const auto level = level_in(body_of(request));
      std::lock_guard lock(mutex);
      store_change(detail::SchemaStore::level_record(subject, level));
      return json{{"compatibility", to_string(level)}};
    }
    throw RegistryRefusal(404, 404, "HTTP 404: no such resource " + request.raw_path);
  }

  EmbeddedSchemaRegistryOptions options;
  detail::SchemasTopic topic;
  std::mutex mutex;  // the store, and the order of changes in the topic
  detail::SchemaStore store;
  bool write_unsure = false;         // a write to the topic failed: it may land yet
  std::optional<HttpServer> server;  // last: stops before the rest goes
};

EmbeddedSchemaRegistry::EmbeddedSchemaRegistry(EmbeddedSchemaRegistryOptions options) {
  if (options.brokers.empty()) {
    throw Exception(Error(Errc::invalid_argument, Stage::schema,
                          "an embedded schema registry needs brokers to keep its schemas on"));
  }
  impl_ = std::make_unique<Impl>(std::move(options));
}

EmbeddedSchemaRegistry::~EmbeddedSchemaRegistry() = default;
EmbeddedSchemaRegistry::EmbeddedSchemaRegistry(EmbeddedSchemaRegistry&&) noexcept = default;
EmbeddedSchemaRegistry& EmbeddedSchemaRegistry::operator=(EmbeddedSchemaRegistry&&) noexcept =
    default;

const std::string& EmbeddedSchemaRegistry::url() const noexcept {
  return impl_->server->url();
}
int EmbeddedSchemaRegistry::port() const noexcept {
  return impl_->server->port();
}

}  // namespace corps
