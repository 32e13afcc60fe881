#include "corps/schema_registry.hpp"

#include <google/protobuf/dynamic_message.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "corps/confluent_framing.hpp"
#include "corps/error.hpp"
#include "corps/logging.hpp"
#include "detail/registry_schema.hpp"
#include "detail/schema_store.hpp"

namespace corps {

using nlohmann::json;

namespace {

constexpr std::pair<CompatibilityLevel, std::string_view> level_names[] = {
    {CompatibilityLevel::none, "NONE"},
    {CompatibilityLevel::backward, "BACKWARD"},
    {CompatibilityLevel::backward_transitive, "BACKWARD_TRANSITIVE"},
    {CompatibilityLevel::forward, "FORWARD"},
    {CompatibilityLevel::forward_transitive, "FORWARD_TRANSITIVE"},
    {CompatibilityLevel::full, "FULL"},
    {CompatibilityLevel::full_transitive, "FULL_TRANSITIVE"},
};

[[noreturn]] void fail(Errc code, std::string message) {
  throw Exception(Error(code, Stage::schema, std::move(message)));
}

// A path segment: everything but unreserved characters percent-encoded, so
// a subject named after a file ("corps/metadata.proto") stays one segment.
std::string path_segment(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A failed answer as a typed error: the registry's error code decides.
[[noreturn]] void refused(const std::string& what, int status, const std::string& body) {
  int error_code = status;
  std::string message = body;
  try {
    const auto parsed = json::parse(body);
    error_code = parsed.value("error_code", status);
    message = parsed.value("message", body);
  } catch (const json::exception&) {
  }
  const std::string text = what + ": the registry answered " + std::to_string(status) + " (" +
                           std::to_string(error_code) + "): " + message;
  switch (error_code) {
    case 40401:
    case 40402:
    case 40403: fail(Errc::schema_not_found, text);
    case 42201: fail(Errc::invalid_schema, text);
    case 409: fail(Errc::incompatible_schema, text);
    default: break;
  }
  fail(status >= 500 ? Errc::registry_unreachable : Errc::invalid_argument, text);
}

std::string cache_key(const std::string& subject, const Schema& schema) {
  return detail::schema_json(schema).dump() + '\n' + subject;
}

}  // namespace

std::string_view to_string(CompatibilityLevel level) noexcept {
  for (const auto& [l, name] : level_names) {
    if (l == level) return name;
  }
  return "UNKNOWN";
}

std::optional<CompatibilityLevel> compatibility_level_named(std::string_view name) {
  for (const auto& [level, known] : level_names) {
    if (std::equal(name.begin(), name.end(), known.begin(), known.end(), [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        })) {
      return level;
    }
  }
  return std::nullopt;
}

std::string subject_name(SubjectNameStrategy strategy, std::string_view topic,
                         std::string_view full_type_name) {
  switch (strategy) {
    case SubjectNameStrategy::topic: return std::string(topic) + "-value";
    case SubjectNameStrategy::record: return std::string(full_type_name);
    case SubjectNameStrategy::topic_record:
      return std::string(topic) + "-" + std::string(full_type_name);
  }
  return std::string(topic) + "-value";
}

// The deadline of the look-up under way on this thread, if it has one:
// message_by_id(..., deadline) sets it for everything the look-up asks the
// registry (the schema, its references), and request() keeps to it.
thread_local std::optional<std::chrono::steady_clock::time_point> lookup_deadline;

struct SchemaRegistryClient::Impl {
  SchemaRegistryOptions options;
  std::vector<std::string> urls;

  // Ids whose look-up failed: not asked again until `retry_at`.
  struct Failed {
    Error error;
    std::chrono::steady_clock::time_point retry_at;
    std::chrono::milliseconds backoff;
  };
  std::map<std::int32_t, Failed> failed_ids;  // under `mutex`

  std::mutex mutex;  // the caches
  std::map<std::int32_t, Schema> schemas;
  std::map<std::string, std::int32_t> ids;             // registered, by cache_key
  std::map<std::string, RegisteredSchema> registered;  // looked up, by cache_key
  std::map<std::int32_t, std::shared_ptr<const google::protobuf::FileDescriptor>> files;
  // A factory per schema id, with the file it makes messages of.
  struct DynamicTypes {
    std::shared_ptr<const google::protobuf::FileDescriptor> file;
    google::protobuf::DynamicMessageFactory factory;
  };
  std::map<std::int32_t, std::shared_ptr<DynamicTypes>> factories;
  std::map<std::pair<std::int32_t, std::vector<int>>,
           std::shared_ptr<const google::protobuf::Message>>
      prototypes;

  // One request, tried at each URL in turn and retried with backoff when
  // nothing answers or a server fails (5xx). A client per request: they
  // are rare (everything is cached) and httplib's clients are not
  // thread-safe.
  json request(const std::string& what, const std::string& method, const std::string& path,
               const std::optional<json>& body = std::nullopt) {
    const httplib::Headers headers{
        {"Accept", "application/vnd.schemaregistry.v1+json, application/json"}};
    std::string last_failure;
    auto backoff = std::chrono::milliseconds(100);
    // Left of the look-up's deadline, if it has one: each request's
    // timeout shrinks to fit, and no try starts past it.
    const auto left = [&]() -> std::optional<std::chrono::milliseconds> {
      if (!lookup_deadline) return std::nullopt;
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          *lookup_deadline - std::chrono::steady_clock::now());
    };
    const auto out_of_time = [&] {
      fail(Errc::registry_unreachable,
           what + ": no schema registry answered within the time the look-up had" +
               (last_failure.empty() ? std::string() : " (last: " + last_failure + ")"));
    };
    for (int attempt = 0; attempt <= options.retries; ++attempt) {
      if (attempt > 0) {
        if (const auto time = left()) {
          if (*time <= backoff) out_of_time();
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2'000));
      }
      for (const auto& url : urls) {
        auto timeout = options.request_timeout;
        if (const auto time = left()) {
          if (time->count() <= 0) out_of_time();
          timeout = std::min(timeout, *time);
        }
        httplib::Client client(url);
        client.set_connection_timeout(timeout);
        client.set_read_timeout(timeout);
        client.set_write_timeout(timeout);
        if (options.basic_auth)
          client.set_basic_auth(options.basic_auth->first, options.basic_auth->second);
        if (!options.tls_ca_file.empty()) client.set_ca_cert_path(options.tls_ca_file);
        client.enable_server_certificate_verification(options.tls_verify);
        // An answer is read up to max_response_bytes and never inflated:
        // a registry, or what poses as one, cannot make this process hold
        // more (no Accept-Encoding is sent; a compressed answer is refused).
        client.set_decompress(false);
        httplib::Request call;
        call.method = method;
        call.path = path;
        call.headers = headers;
        if (body) {
          call.body = body->dump();
          call.set_header("Content-Type", "application/vnd.schemaregistry.v1+json");
        }
        std::string answer;
        bool too_large = false;
        call.content_receiver = [&](const char* data, std::size_t size, std::uint64_t,
                                    std::uint64_t) {
          if (answer.size() + size > options.max_response_bytes) {
            too_large = true;
            return false;
          }
          answer.append(data, size);
          return true;
        };
        httplib::Result result = client.send(call);
        if (too_large) {
          fail(Errc::too_large, what + ": " + url + " answered more than " +
                                    std::to_string(options.max_response_bytes) +
                                    " bytes (SchemaRegistryOptions::max_response_bytes)");
        }
        if (!result) {
          last_failure = url + ": " + httplib::to_string(result.error());
          continue;
        }
        result->body = std::move(answer);
        if (const auto encoding = result->get_header_value("Content-Encoding");
            !encoding.empty() && encoding != "identity") {
          fail(Errc::invalid_argument, what + ": " + url + " answered compressed (" + encoding +
                                           "), which is not asked for and not taken");
        }
        if (result->status >= 500) {
          last_failure = url + " answered " + std::to_string(result->status) + ": " + result->body;
          continue;
        }
        if (result->status < 200 || result->status > 299)
          refused(what, result->status, result->body);
        try {
          return json::parse(result->body);
        } catch (const json::exception& e) {
          fail(Errc::invalid_argument,
               what + ": " + url + " answered something that is not JSON: " + e.what());
        }
      }
    }
    fail(Errc::registry_unreachable, what + ": no schema registry answered (" +
                                         std::to_string(options.retries + 1) +
                                         " tries; last: " + last_failure + ")");
  }

  Schema fetch_schema(std::int32_t id) {
    {
      std::lock_guard lock(mutex);
      if (const auto found = schemas.find(id); found != schemas.end()) return found->second;
    }
    const auto answer = request("fetching schema " + std::to_string(id), "GET",
                                "/schemas/ids/" + std::to_string(id));
    Schema schema;
    try {
      schema = detail::schema_from_json(answer);
    } catch (const detail::RegistryRefusal& e) {
      fail(Errc::invalid_schema,
           "schema " + std::to_string(id) + " as the registry gave it: " + e.what());
    }
    std::lock_guard lock(mutex);
    return schemas.emplace(id, std::move(schema)).first->second;
  }

  RegisteredSchema registered_from(const json& answer, const std::string& what) {
    try {
      return {.subject = answer.at("subject").get<std::string>(),
              .version = answer.at("version").get<int>(),
              .id = answer.at("id").get<std::int32_t>(),
              .schema = detail::schema_from_json(answer)};
    } catch (const std::exception& e) {
      fail(Errc::invalid_argument, what + ": the registry's answer lacks a field: " + e.what());
    }
  }
};

SchemaRegistryClient::SchemaRegistryClient(SchemaRegistryOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  std::string_view rest = impl_->options.url;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string url(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      fail(Errc::invalid_argument, "schema registry URL '" + url + "' is not http:// or https://");
    }
    impl_->urls.push_back(std::move(url));
  }
  if (impl_->urls.empty()) fail(Errc::invalid_argument, "no schema registry URL given");
}

SchemaRegistryClient::~SchemaRegistryClient() = default;

const std::string& SchemaRegistryClient::url() const noexcept {
  return impl_->options.url;
}

std::int32_t SchemaRegistryClient::register_schema(const std::string& subject,
                                                   const Schema& schema) {
  const std::string key = cache_key(subject, schema);
  {
    std::lock_guard lock(impl_->mutex);
    if (const auto found = impl_->ids.find(key); found != impl_->ids.end()) return found->second;
  }
  const auto answer = impl_->request("registering a schema under subject '" + subject + "'", "POST",
                                     "/subjects/" + path_segment(subject) + "/versions",
                                     detail::schema_json(schema));
  const auto id = answer.at("id").get<std::int32_t>();
  std::lock_guard lock(impl_->mutex);
  impl_->schemas.emplace(id, schema);
  impl_->ids.emplace(key, id);
  return id;
}

std::optional<RegisteredSchema> SchemaRegistryClient::find(const std::string& subject,
                                                           const Schema& schema) {
  const std::string key = cache_key(subject, schema);
  {
    std::lock_guard lock(impl_->mutex);
    if (const auto found = impl_->registered.find(key); found != impl_->registered.end()) {
      return found->second;
    }
  }
  const std::string what = "looking up a schema under subject '" + subject + "'";
  json answer;
  try {
    answer = impl_->request(what, "POST", "/subjects/" + path_segment(subject),
                            detail::schema_json(schema));
  } catch (const Exception& e) {
    if (e.error().code() == Errc::schema_not_found) return std::nullopt;
    throw;
  }
  auto registered = impl_->registered_from(answer, what);
  std::lock_guard lock(impl_->mutex);
  impl_->schemas.emplace(registered.id, registered.schema);
  impl_->registered.emplace(key, registered);
  return registered;
}

Schema SchemaRegistryClient::file_schema(const google::protobuf::FileDescriptor& file,
                                         bool register_imports) {
  Schema schema;
  schema.schema = detail::proto_text(file);
  for (int i = 0; i < file.dependency_count(); ++i) {
    const auto& import = *file.dependency(i);
    // Protobuf's own types: every registry and reader knows them without a
    // reference, as Confluent's serializers treat them.
    if (import.name().rfind("google/protobuf/", 0) == 0) continue;
    const Schema imported = file_schema(import, register_imports);
    if (register_imports) (void)register_schema(import.name(), imported);
    const auto registered = find(import.name(), imported);
    if (!registered) {
      fail(Errc::schema_not_found, "import '" + import.name() + "' of " + file.name() +
                                       " is not registered under subject '" + import.name() + "'");
    }
    schema.references.push_back(
        {.name = import.name(), .subject = registered->subject, .version = registered->version});
  }
  return schema;
}

std::int32_t SchemaRegistryClient::register_file(const std::string& subject,
                                                 const google::protobuf::FileDescriptor& file) {
  return register_schema(subject, file_schema(file));
}

Schema SchemaRegistryClient::schema_by_id(std::int32_t id) {
  return impl_->fetch_schema(id);
}

RegisteredSchema SchemaRegistryClient::version(const std::string& subject,
                                               std::optional<int> version) {
  const std::string what = "fetching version " +
                           (version ? std::to_string(*version) : std::string("latest")) +
                           " of subject '" + subject + "'";
  return impl_->registered_from(
      impl_->request(what, "GET",
                     "/subjects/" + path_segment(subject) + "/versions/" +
                         (version ? std::to_string(*version) : std::string("latest"))),
      what);
}

std::vector<std::string> SchemaRegistryClient::subjects() {
  auto out = impl_->request("listing subjects", "GET", "/subjects").get<std::vector<std::string>>();
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SchemaRegistryClient::compatibility_problems(const std::string& subject,
                                                                      const Schema& schema) {
  const std::string what = "checking a schema against subject '" + subject + "'";
  json answer;
  try {
    answer = impl_->request(
        what, "POST",
        "/compatibility/subjects/" + path_segment(subject) + "/versions/latest?verbose=true",
        detail::schema_json(schema));
  } catch (const Exception& e) {
    // A subject with no versions yet takes any schema.
    if (e.error().code() == Errc::schema_not_found) return {};
    throw;
  }
  if (answer.value("is_compatible", false)) return {};
  std::vector<std::string> problems;
  if (answer.contains("messages") && answer["messages"].is_array()) {
    for (const auto& message : answer["messages"]) {
      problems.push_back(message.is_string() ? message.get<std::string>() : message.dump());
    }
  }
  if (problems.empty()) problems.push_back("the registry says it is incompatible, and not why");
  return problems;
}

CompatibilityLevel SchemaRegistryClient::compatibility(const std::optional<std::string>& subject) {
  const std::string path = subject ? "/config/" + path_segment(*subject) + "?defaultToGlobal=true"
                                   : std::string("/config");
  const auto answer = impl_->request("reading a compatibility level", "GET", path);
  const auto level = compatibility_level_named(answer.value("compatibilityLevel", ""));
  if (!level)
    fail(Errc::invalid_argument,
         "the registry names an unknown compatibility level: " + answer.dump());
  return *level;
}

void SchemaRegistryClient::set_compatibility(CompatibilityLevel level,
                                             const std::optional<std::string>& subject) {
  (void)impl_->request("setting a compatibility level", "PUT",
                       subject ? "/config/" + path_segment(*subject) : std::string("/config"),
                       json{{"compatibility", to_string(level)}});
}

std::shared_ptr<const google::protobuf::FileDescriptor> SchemaRegistryClient::file_by_id(
    std::int32_t id) {
  {
    std::lock_guard lock(impl_->mutex);
    if (const auto found = impl_->files.find(id); found != impl_->files.end()) return found->second;
  }
  const Schema schema = impl_->fetch_schema(id);
  auto file = detail::build_protobuf_schema(
      schema, "schema-" + std::to_string(id) + ".proto", [this](const SchemaReference& reference) {
        return version(reference.subject, reference.version).schema;
      });
  std::lock_guard lock(impl_->mutex);
  return impl_->files.emplace(id, std::move(file)).first->second;
}

std::shared_ptr<const google::protobuf::Message> SchemaRegistryClient::message_by_id(
    std::int32_t id, std::span<const int> indexes, std::chrono::steady_clock::time_point deadline) {
  const auto before = lookup_deadline;
  lookup_deadline = deadline;
  try {
    auto prototype = message_by_id(id, indexes);
    lookup_deadline = before;
    return prototype;
  } catch (...) {
    lookup_deadline = before;
    throw;
  }
}

std::shared_ptr<const google::protobuf::Message> SchemaRegistryClient::message_by_id(
    std::int32_t id, std::span<const int> indexes) {
  using Clock = std::chrono::steady_clock;
  std::pair<std::int32_t, std::vector<int>> key{id, {indexes.begin(), indexes.end()}};
  {
    std::lock_guard lock(impl_->mutex);
    if (const auto found = impl_->prototypes.find(key); found != impl_->prototypes.end()) {
      return found->second;
    }
    // An id that failed a moment ago fails again at once: every record of
    // it would otherwise wait the whole look-up in turn.
    if (const auto failed = impl_->failed_ids.find(id);
        failed != impl_->failed_ids.end() && Clock::now() < failed->second.retry_at) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
          failed->second.retry_at - Clock::now());
      Error error = failed->second.error;
      throw Exception(Error(error.code(), error.stage(),
                            error.message() + " (failed a moment ago: not asked again for " +
                                std::to_string(wait.count()) + " ms)")
                          .set_severity(error.severity()));
    }
  }
  std::shared_ptr<const google::protobuf::FileDescriptor> file;
  try {
    file = file_by_id(id);
  } catch (const Exception& e) {
    std::lock_guard lock(impl_->mutex);
    auto [failed, first] = impl_->failed_ids.try_emplace(
        id, Impl::Failed{e.error(), {}, std::chrono::milliseconds(1'000)});
    if (!first) {
      failed->second.error = e.error();
      failed->second.backoff =
          std::min(failed->second.backoff * 2, std::chrono::milliseconds(60'000));
    }
    failed->second.retry_at = Clock::now() + failed->second.backoff;
    throw;
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->failed_ids.erase(id);
  }
  const auto* type = message_at_path(*file, indexes);
  if (type == nullptr) {
    std::string path;
    for (const int index : indexes) path += (path.empty() ? "" : ", ") + std::to_string(index);
    throw Exception(Error(Errc::schema_not_found, Stage::schema,
                          "schema " + std::to_string(id) + " (" + file->name() + ", " +
                              std::to_string(file->message_type_count()) +
                              " top-level messages) has no message at indexes [" + path + "]"));
  }
  std::lock_guard lock(impl_->mutex);
  auto& types = impl_->factories[id];
  if (!types) {
    types = std::make_shared<Impl::DynamicTypes>();
    types->file = std::move(file);
  }
  // Aliasing: the prototype keeps its factory and file alive.
  std::shared_ptr<const google::protobuf::Message> prototype(types,
                                                             types->factory.GetPrototype(type));
  return impl_->prototypes.emplace(std::move(key), std::move(prototype)).first->second;
}

}  // namespace corps
