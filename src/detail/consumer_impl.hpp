// Consumer::Impl: the state behind corps::Consumer, shared by its files:
// consumer.cpp (the record loop: fetch, decode, hand out, rewind, commit,
// close) and consumer_run.cpp (run(): handler retries and dead letters).
// The Kafka client is detail::KafkaConsumer, the offsets' bookkeeping
// detail::OffsetTracker, the dead-letter channel detail::DeadLetterWriter,
// decoding detail::RecordDecoder, and decoding ahead detail::DecodeAhead.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "corps/consumer.hpp"
#include "detail/client_metrics.hpp"
#include "detail/dead_letter_writer.hpp"
#include "detail/decode_ahead.hpp"
#include "detail/kafka_consumer.hpp"
#include "detail/offset_tracker.hpp"
#include "detail/record_decoder.hpp"

namespace corps {

struct Consumer::Impl final : detail::RebalanceListener {
  Impl(ChannelRegistry r, ConsumerOptions o);

  ChannelRegistry registry;
  ConsumerOptions options;
  detail::OffsetTracker offsets;
  std::unique_ptr<detail::KafkaConsumer> kafka;
  // Set when options.dead_letters is.
  std::unique_ptr<detail::DeadLetterWriter> letters;
  // Set when options.metrics is; the collector reads each partition's lag
  // when the metrics are rendered, and goes before the client.
  std::unique_ptr<detail::ConsumerMetrics> metrics;
  std::shared_ptr<void> lag_collector;
  // Decodes on the application's thread: every record without decode
  // threads; with them, the small records, the large ones no worker has
  // started when they are needed, and one a worker could not decode.
  std::unique_ptr<detail::RecordDecoder> decoder;
  // Set when options.decode_threads is; gone once closed, before the
  // client (it holds librdkafka's messages).
  std::unique_ptr<detail::DecodeAhead> ahead;
  std::atomic<bool> stop_requested{false};
  // A decoded record held back while the loss before it is reported. It owns
  // its bytes, so holding it keeps nothing of librdkafka's.
  std::optional<Record> held;
  bool closed = false;
  // While close() runs: when it must be done, which also bounds the commit
  // of the revoke it causes.
  std::optional<std::chrono::steady_clock::time_point> closing_by;
  // True when the record next() returned last is already on the
  // dead-letter channel.
  bool last_dead_lettered = false;

  bool grouped() const noexcept { return !options.group_id.empty(); }
  bool stopped() const noexcept;
  void validate() const;

  // The next record, or nullopt after `timeout`; marks the previous handled.
  std::optional<Record> next(std::chrono::milliseconds timeout);
  // Makes the next poll fetch the record at `where` again, and keeps it (and
  // so everything after it in its partition) from counting as handled.
  void rewind(const RecordLocation& where);
  // Writes `record` to the dead-letter channel (one must be configured).
  Status write_dead_letter(const Record& record, const Error& error, int attempts);
  // Stores the offset after the record handed out last, if it is to be
  // committed.
  void store_pending();
  // How long a commit may wait for the broker: what is left of close()'s
  // time while closing, close_timeout otherwise.
  std::chrono::milliseconds commit_budget() const;

  // run()'s (consumer_run.cpp): waits `wait`, in short slices so stop() and
  // signals cut it short; false if stopped meanwhile.
  bool sleep_unless_stopped(std::chrono::milliseconds wait) const;
  // Calls `handle` up to retry.max_attempts times; the last failure, or
  // nullopt once it returned. `attempts` says how many calls were made.
  std::optional<Error> attempt(const RecordHandler& handle, const Record& record,
                               int& attempts) const;

  // detail::RebalanceListener
  void assigned(const std::vector<TopicPartition>& partitions) override;
  void revoking(const std::vector<TopicPartition>& partitions) override;

 private:
  void hand_out(Record& record);
  void route(Record& record);
  std::optional<detail::Fetched> fetch(std::chrono::milliseconds wait);
  detail::Fetched decode_now(detail::MessagePtr message, RecordLocation where,
                             std::chrono::steady_clock::time_point fetched_at);
  Record loss_before(const RecordLocation& where, const detail::OffsetTracker::Missing& missing);
  void go_on_from(const RecordLocation& where, std::int64_t offset);
};

}  // namespace corps
