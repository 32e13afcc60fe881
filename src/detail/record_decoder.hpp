// RecordDecoder: turns one message librdkafka fetched into a Record: its
// headers read within the loader's limits, its value decoded by a
// MessageLoader, its key, value and timestamp copied, so the message can go
// back to librdkafka at once. The consumer has one for decoding on its own
// thread, and one per worker of its DecodeAhead: a MessageLoader is not
// thread-safe.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>

#include "corps/consumer.hpp"
#include "corps/message_loader.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"

namespace corps::detail {

class ConsumerMetrics;

class RecordDecoder {
 public:
  /// `registry`, `options` and `metrics` (which may be null) must outlive it.
  RecordDecoder(const ChannelRegistry& registry, const ConsumerOptions& options,
                ConsumerMetrics* metrics);

  /// The record in `message`, which is at `where` and was taken from the
  /// client at `fetched_at`, decoded (or failed). Sets `parsed_bytes`, if
  /// given, to the size of the serialized message it decoded (0 if it
  /// failed): about what the message holds, without walking it.
  Record decode(const rd_kafka_message_t& message, RecordLocation where,
                std::chrono::steady_clock::time_point fetched_at,
                std::size_t* parsed_bytes = nullptr);

  /// The deadline of the schema registry look-ups decode() makes
  /// (MessageLoader::set_lookup_deadline).
  void set_lookup_deadline(std::optional<std::chrono::steady_clock::time_point> deadline) noexcept {
    loader_.set_lookup_deadline(deadline);
  }

 private:
  const ChannelRegistry& registry_;
  const LoaderOptions& limits_;
  ConsumerMetrics* metrics_;
  MessageLoader loader_;
};

}  // namespace corps::detail
