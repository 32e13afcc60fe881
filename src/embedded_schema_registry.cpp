#include "corps/embedded_schema_registry.hpp"

#include <httplib.h>

#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>

#include "corps/error.hpp"
#include "corps/logging.hpp"
#include "detail/http_listener.hpp"
#include "detail/schema_store.hpp"
#include "detail/schemas_topic.hpp"

namespace corps {

using detail::RegistryRefusal;
using nlohmann::json;

namespace {

constexpr const char* content_type = "application/vnd.schemaregistry.v1+json";

void answer(httplib::Response& response, const json& body, int status = 200) {
  response.status = status;
  response.set_content(body.dump(), content_type);
}

json registered_json(const RegisteredSchema& registered) {
  json out = detail::schema_json(registered.schema);
  out["subject"] = registered.subject;
  out["version"] = registered.version;
  out["id"] = registered.id;
  return out;
}

json body_of(const httplib::Request& request) {
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
    for (const auto& record : topic.read_all()) store.apply(record);
    routes();
    listener.emplace(server, options.host, options.port, Stage::schema, "the schema registry");
    logger()->info("schema registry at {} keeps its schemas in topic '{}' of {}", listener->url(),
                   options.topic, options.brokers);
  }

  // Serves one request: refusals become the REST API's error bodies.
  void handle(const httplib::Request& request, httplib::Response& response,
              const std::function<json(const httplib::Request&)>& serve) {
    try {
      answer(response, serve(request));
    } catch (const RegistryRefusal& refusal) {
      answer(response, {{"error_code", refusal.error_code}, {"message", refusal.what()}},
             refusal.http_status);
    } catch (const std::exception& e) {
      answer(response,
             {{"error_code", 50001},
              {"message", std::string("Error in the backend data store: ") + e.what()}},
             500);
    }
  }

  // Stores `record` in the topic, then in memory.
  void store_change(const detail::SchemasRecord& record) {
    topic.append(record);
    store.apply(record);
  }

  void on(const char* method, const std::string& pattern,
          std::function<json(const httplib::Request&)> serve) {
    auto handler = [this, serve = std::move(serve)](const httplib::Request& request,
                                                    httplib::Response& response) {
      handle(request, response, serve);
    };
    if (std::string_view(method) == "GET") server.Get(pattern, handler);
    if (std::string_view(method) == "POST") server.Post(pattern, handler);
    if (std::string_view(method) == "PUT") server.Put(pattern, handler);
  }

  void routes() {
    on("GET", "/", [](const auto&) { return json::object(); });
    on("GET", "/schemas/types", [](const auto&) { return json::array({"PROTOBUF"}); });
    on("GET", "/subjects", [this](const auto&) {
      std::lock_guard lock(mutex);
      return json(store.subjects());
    });
    // Subjects may hold '/' (an import's file name): the more specific
    // patterns come first, and a subject matches greedily.
    on("GET", R"(/subjects/(.+)/versions/([^/]+)/schema)", [this](const auto& request) {
      std::lock_guard lock(mutex);
      return json(
          store.version(request.matches[1], version_named(request.matches[2])).schema.schema);
    });
    on("GET", R"(/subjects/(.+)/versions/([^/]+))", [this](const auto& request) {
      std::lock_guard lock(mutex);
      return registered_json(store.version(request.matches[1], version_named(request.matches[2])));
    });
    on("GET", R"(/subjects/(.+)/versions)", [this](const auto& request) {
      std::lock_guard lock(mutex);
      return json(store.versions(request.matches[1]));
    });
    on("POST", R"(/subjects/(.+)/versions)", [this](const auto& request) {
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      const auto registration = store.plan_registration(request.matches[1], schema);
      if (registration.record) store_change(*registration.record);
      return json{{"id", registration.id}};
    });
    on("POST", R"(/subjects/(.+))", [this](const auto& request) {
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      return registered_json(store.lookup(request.matches[1], schema));
    });
    on("GET", R"(/schemas/ids/(\d+)/versions)", [this](const auto& request) {
      std::lock_guard lock(mutex);
      json out = json::array();
      for (const auto& [subject, version] : store.versions_of_id(id_named(request.matches[1]))) {
        out.push_back({{"subject", subject}, {"version", version}});
      }
      return out;
    });
    on("GET", R"(/schemas/ids/(\d+))", [this](const auto& request) {
      std::lock_guard lock(mutex);
      return detail::schema_json(store.schema_by_id(id_named(request.matches[1])));
    });
    const auto compatibility = [this](const httplib::Request& request, std::optional<int> against) {
      const Schema schema = detail::schema_from_json(body_of(request));
      std::lock_guard lock(mutex);
      const auto problems = store.compatibility_problems(request.matches[1], schema, against);
      json out{{"is_compatible", problems.empty()}};
      if (request.get_param_value("verbose") == "true") out["messages"] = problems;
      return out;
    };
    on("POST", R"(/compatibility/subjects/(.+)/versions/([^/]+))", [=, this](const auto& request) {
      int against = 0;
      {
        std::lock_guard lock(mutex);  // "latest" is the version it is now; unknown ones are 404
        against = store.version(request.matches[1], version_named(request.matches[2])).version;
      }
      return compatibility(request, against);
    });
    on("POST", R"(/compatibility/subjects/(.+)/versions)",
       [=](const auto& request) { return compatibility(request, std::nullopt); });
    on("GET", "/config", [this](const auto&) {
      std::lock_guard lock(mutex);
      return json{{"compatibilityLevel", to_string(store.level(std::nullopt))}};
    });
    on("GET", R"(/config/(.+))", [this](const auto& request) {
      std::lock_guard lock(mutex);
      const bool fall_back = request.get_param_value("defaultToGlobal") == "true";
      return json{{"compatibilityLevel",
                   to_string(store.level(std::string(request.matches[1]), fall_back))}};
    });
    on("PUT", "/config", [this](const auto& request) {
      const auto level = level_in(body_of(request));
      std::lock_guard lock(mutex);
      store_change(detail::SchemaStore::level_record(std::nullopt, level));
      return json{{"compatibility", to_string(level)}};
    });
    on("PUT", R"(/config/(.+))", [this](const auto& request) {
      const auto level = level_in(body_of(request));
      std::lock_guard lock(mutex);
      store_change(detail::SchemaStore::level_record(std::string(request.matches[1]), level));
      return json{{"compatibility", to_string(level)}};
    });
    // Anything else: the REST API's shape of "not found", not an empty page.
    server.set_error_handler([](const httplib::Request&, httplib::Response& response) {
      if (!response.body.empty()) return;
      answer(
          response,
          {{"error_code", response.status}, {"message", "HTTP " + std::to_string(response.status)}},
          response.status);
    });
  }

  EmbeddedSchemaRegistryOptions options;
  detail::SchemasTopic topic;
  std::mutex mutex;  // the store, and the order of changes in the topic
  detail::SchemaStore store;
  httplib::Server server;
  std::optional<detail::HttpListener> listener;  // last: stops before the rest goes
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
  return impl_->listener->url();
}
int EmbeddedSchemaRegistry::port() const noexcept {
  return impl_->listener->port();
}

}  // namespace corps
