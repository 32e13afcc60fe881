// The `_schemas` topic an embedded registry keeps its state in, as
// Confluent's registry does: one record per change, keyed so that
// compaction keeps the last of each (a subject's version, a level), with
// JSON keys and values in Confluent's shapes. A registry restarted on the
// same broker reads it back and has every schema, under the same ids.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "detail/schema_store.hpp"

namespace corps {
class Producer;
}

namespace corps::detail {

class SchemasTopic {
 public:
  /// Makes the topic if it is missing (compacted, one partition; on the
  /// embedded broker, which has no admin API, the first request makes it).
  /// Throws corps::Exception (Stage::schema / connect) if the brokers do
  /// not answer within `timeout`.
  SchemasTopic(std::string brokers, std::string topic, std::chrono::milliseconds timeout);
  ~SchemasTopic();

  /// Every record in the topic, from its start to its end as of now, in
  /// each partition's order.
  [[nodiscard]] std::vector<SchemasRecord> read_all() const;

  /// Appends `record` and returns once the brokers have it (acks=all).
  /// Throws corps::Exception (Stage::schema) if they do not take it.
  void append(const SchemasRecord& record);

  [[nodiscard]] const std::string& name() const noexcept { return topic_; }

 private:
  std::string brokers_;
  std::string topic_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Producer> producer_;
};

}  // namespace corps::detail
