// The embedded schema registry's REST API (the routes of Confluent's that
// serializers, deserializers and operators use) over a SchemaStore, apart
// from HTTP and from Kafka: the registry serves it through an HttpServer
// and keeps its changes in the _schemas topic; the fuzzer serves it raw
// requests and keeps them in memory.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "corps/http_server.hpp"
#include "detail/schema_store.hpp"

namespace corps::detail {

/// Where the registry's changes are kept.
class SchemasLog {
 public:
  virtual ~SchemasLog() = default;
  /// Applies to `store` every change kept since it last read.
  virtual void catch_up(SchemaStore& store) = 0;
  /// Keeps `record`, then applies it (and any change before it) to
  /// `store`. Throws if it cannot; then the record may be kept all the same.
  virtual void append(SchemaStore& store, const SchemasRecord& record) = 0;
  /// What the log is, for errors: "topic '_schemas'".
  [[nodiscard]] virtual std::string name() const = 0;
};

/// Changes applied as they are written and kept nowhere else: a registry
/// with no broker behind it, for tests and the fuzzer.
class MemorySchemasLog : public SchemasLog {
 public:
  void catch_up(SchemaStore&) override {}
  void append(SchemaStore& store, const SchemasRecord& record) override { store.apply(record); }
  [[nodiscard]] std::string name() const override { return "memory"; }
};

class RegistryApi {
 public:
  /// Reads `log` in.
  RegistryApi(CompatibilityLevel default_level, SchemasLog& log);

  /// Answers one request; refusals become the REST API's error bodies, any
  /// other failure a 500. Thread-safe.
  [[nodiscard]] HttpResponse serve(const HttpRequest& request);

 private:
  nlohmann::json route(const HttpRequest& request);
  // Stores `records` in order, each applied once stored; caller holds mutex_.
  void keep(const std::vector<SchemasRecord>& records);

  SchemasLog& log_;
  std::mutex mutex_;  // the store, and the order of changes in the log
  SchemaStore store_;
};

}  // namespace corps::detail
