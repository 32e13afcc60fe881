// The `_schemas` topic an embedded registry keeps its state in, as
// Confluent's registry does: one record per change, keyed so that
// compaction keeps the last of each (a subject's version, a level), with
// JSON keys and values in Confluent's shapes. A registry restarted on the
// same broker reads it back and has every schema, under the same ids.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
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
  /// embedded broker, which has no admin API, the first request makes it)
  /// and starts reading it from its beginning.
  /// Throws corps::Exception (Stage::schema / connect) if the brokers do
  /// not answer within `timeout`.
  SchemasTopic(std::string brokers, std::string topic, std::chrono::milliseconds timeout);
  ~SchemasTopic();

  /// The records stored since the last call (at the first, every record),
  /// up to the topic's end as of now, in each partition's order.
  [[nodiscard]] std::vector<SchemasRecord> read_new();

  /// Appends a NOOP record to every partition and waits until the brokers
  /// have them. A write of this registry whose outcome it never learnt (the
  /// broker took it, the answer came too late) went out before them on the
  /// same producer: once they are stored, it has landed or never will, and
  /// read_new() returns it if it did. Confluent's registry fences its reads
  /// the same way.
  void fence();

  /// Appends `record` and returns once the brokers have it (acks=all).
  /// Throws corps::Exception (Stage::schema) if they do not take it, which
  /// leaves its outcome unknown: it may land all the same.
  void append(const SchemasRecord& record);

  [[nodiscard]] const std::string& name() const noexcept { return topic_; }

 private:
  struct Reader;
  void send(const std::string& key, const std::optional<std::string>& value,
            std::optional<std::int32_t> partition);

  std::string brokers_;
  std::string topic_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Producer> producer_;
  std::unique_ptr<Reader> reader_;
};

}  // namespace corps::detail
