#include "corps/embedded_schema_registry.hpp"

#include <optional>

#include "corps/error.hpp"
#include "corps/http_server.hpp"
#include "corps/logging.hpp"
#include "detail/registry_api.hpp"
#include "detail/schemas_topic.hpp"

namespace corps {

namespace {

// The registry's changes, kept in the _schemas topic.
class TopicLog : public detail::SchemasLog {
 public:
  explicit TopicLog(const EmbeddedSchemaRegistryOptions& options)
      : topic_(options.brokers, options.topic, options.timeout) {}

  // Applies what the topic holds that this registry has not read yet: the
  // writes of another registry on the same topic, and its own writes whose
  // outcome it never learnt, which it fences first (SchemasTopic::fence). An
  // id is handed out only after this, so it never names a second schema.
  void catch_up(detail::SchemaStore& store) override {
    if (write_unsure_) {
      topic_.fence();
      write_unsure_ = false;
    }
    for (const auto& record : topic_.read_new()) store.apply(record);
  }

  // Stores `record` in the topic, then reads it back into memory with what
  // came before it.
  void append(detail::SchemaStore& store, const detail::SchemasRecord& record) override {
    try {
      topic_.append(record);
    } catch (...) {
      write_unsure_ = true;  // it may land all the same
      throw;
    }
    catch_up(store);
  }

  [[nodiscard]] std::string name() const override { return "topic '" + topic_.name() + "'"; }

 private:
  detail::SchemasTopic topic_;
  bool write_unsure_ = false;  // a write to the topic failed: it may land yet
};

}  // namespace

struct EmbeddedSchemaRegistry::Impl {
  explicit Impl(EmbeddedSchemaRegistryOptions o)
      : options(std::move(o)), log(options), api(options.default_compatibility, log) {
    HttpServerOptions http;
    http.host = options.host;
    http.port = options.port;
    http.limits = options.limits;
    http.name = "the schema registry";
    server.emplace(std::move(http),
                   [this](const HttpRequest& request) { return api.serve(request); });
    logger()->info("schema registry at {} keeps its schemas in topic '{}' of {}", server->url(),
                   options.topic, options.brokers);
  }

  EmbeddedSchemaRegistryOptions options;
  TopicLog log;
  detail::RegistryApi api;
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
