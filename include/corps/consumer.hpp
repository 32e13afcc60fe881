// Consumer: receives typed messages from one or several channels.
//
// Each record is decoded into its channel's type (MessageLoader) with the
// offset and partition written into its metadata. A record that does not
// decode comes back as a Record holding a typed Error, and the records after
// it keep flowing.
//
// A consumer also notices records lost before it read them: when the broker
// no longer has the offset the consumer was due to read (deleted by
// retention), the next poll returns a Record failed with
// Errc::records_missing naming the missing range, then the records resume at
// the oldest one kept. Offsets that merely jump (compaction, transaction
// markers, aborted transactions, a start at the end) are not losses and are
// not reported.
//
// Offsets are committed after the record was handled, by default: a record
// counts as handled when the application asks for the next one (poll() again,
// or the next step of a range-for), or calls commit(). Records not yet handled
// when the process dies are delivered again (at-least-once).
//
// run(handler) is the loop that loses nothing: a handler that throws is
// retried with backoff (ConsumerOptions::retry); a record that cannot be
// decoded, or whose handler keeps failing, goes to the dead-letter channel
// (ConsumerOptions::dead_letters), and its offset is committed only once the
// dead letter is acknowledged. Without a dead-letter channel, run() stops at
// such a record and leaves it uncommitted rather than skip it. (Under
// CommitMode::automatic, at-most-once, offsets are committed as records are
// handed out, and neither holds.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "corps/dead_letter.hpp"
#include "corps/message_loader.hpp"
#include "corps/metrics.hpp"
#include "corps/producer.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"
#include "corps/retry.hpp"

namespace corps {

/// Where a group with no committed offset starts reading.
enum class StartFrom {
  earliest,  ///< the oldest record still kept (corps's default: lose nothing)
  latest,    ///< only records sent after joining (MessageCorps's default)
};

/// When consumed offsets are committed.
enum class CommitMode {
  after_handled,  ///< committed (every auto_commit_interval) once handled
  automatic,      ///< committed once handed out, handled or not (at-most-once)
  manual,         ///< only by commit(); nothing is committed otherwise
};

/// Whether the consumer stops on SIGINT and SIGTERM (see shutdown.hpp).
enum class SignalHandling {
  stop,    ///< install corps's handlers; iteration ends on a signal
  ignore,  ///< leave signals to the application
};

/// Consumer settings.
struct ConsumerOptions {
  /// Bootstrap brokers, "host:port[,host:port...]". Required.
  std::string brokers;
  /// The consumer group. Members of one group share the partitions. Empty:
  /// no group; the consumer reads every partition of its channels itself,
  /// from start_offset or start_from, and commits nothing (like kcat -C).
  std::string group_id = "corps";
  /// The Kafka client id, seen in broker logs.
  std::string client_id = "corps-consumer";
  /// The channels to subscribe to; each must be bound in the registry
  /// unless there is a schema_registry. The Channel<T>s ChannelRegistry::bind
  /// returned name them as well as strings.
  std::vector<std::string> channels;
  StartFrom start_from = StartFrom::earliest;
  /// Without a group: where every partition starts. An offset (>= 0), or
  /// minus how many records before the end (kcat's -o -N). Unset: start_from.
  std::optional<std::int64_t> start_offset;
  CommitMode commit_mode = CommitMode::after_handled;
  /// How often handled offsets are committed in the background.
  std::chrono::milliseconds auto_commit_interval{1'000};
  /// How long the constructor waits for a broker to answer, retrying with
  /// exponential backoff; zero skips the check.
  std::chrono::milliseconds connect_timeout{15'000};
  SignalHandling signals = SignalHandling::stop;
  /// How long close() may take to commit and leave the group; past it the
  /// consumer closes without the broker's word (a broker that went away).
  std::chrono::milliseconds close_timeout{10'000};
  /// How long commit() waits for the group coordinator's answer; past it,
  /// a retriable Errc::timed_out at Stage::commit (the commit may still
  /// land; if it does not, what it covered is delivered again).
  std::chrono::milliseconds commit_timeout{10'000};
  /// How long the group waits for a member that stopped sending heartbeats
  /// before it gives that member's partitions to the others (librdkafka's
  /// session.timeout.ms). Unset: 45 s, Kafka's default, on a real cluster;
  /// 6 s (with a heartbeat every second) on the embedded broker
  /// (is_embedded_broker), whose group rebalance waits this long, less a
  /// second, whenever a member leaves or joins a group that has settled: a
  /// new run of a consumer is then assigned in about 5 s, not 44. A real
  /// broker replaces a member that left cleanly at once and waits this long
  /// only for one that vanished. Brokers accept 6 s to 30 min unless
  /// configured otherwise.
  std::optional<std::chrono::milliseconds> session_timeout;
  /// How long the broker may hold a fetch that finds no new records
  /// (librdkafka's fetch.wait.max.ms). Unset: 500 ms, Kafka's default, on a
  /// real cluster, which answers as soon as records arrive, so the wait
  /// costs no latency; 10 ms on the embedded broker (is_embedded_broker),
  /// which holds such a fetch for all of it even when records arrive
  /// meanwhile: at 500 ms, a record sent to an idle partition waited 250 ms
  /// on average before its consumer saw it.
  std::optional<std::chrono::milliseconds> fetch_wait;
  /// The largest record (as stored, compressed) this consumer can fetch:
  /// librdkafka's fetch.max.bytes, with receive.message.max.bytes just
  /// above. A record past it cannot be read at all; the consumer then
  /// returns a failed Record (Stage::consume, Errc::too_large) each time the
  /// fetch fails, rather than stall silently. Keep it at least the
  /// producers' ProducerOptions::max_record_bytes (check_record_limits).
  std::size_t max_record_bytes = std::size_t{50} << 20;
  /// The most bytes fetched ahead and waiting in the client's queue
  /// (librdkafka's queued.max.messages.kbytes): a consumer far behind a fast
  /// producer holds at most about this much, however long the backlog.
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  /// Decoding limits.
  LoaderOptions loader;
  /// Threads that decompress and parse records of 32 KiB or more (as
  /// fetched) ahead of poll(), run() and iteration, so decoding overlaps the
  /// application's own work (and, with more than one, goes on in parallel).
  /// Smaller records are decoded on the application's thread, in batches,
  /// as they are handed out: handing them to a thread cost more than
  /// decoding them. Records are handed out in the
  /// order they were fetched all the same, each partition's in offset
  /// order; what was decoded ahead of a partition that a rebalance takes
  /// away, or that a rewind or a failed dead letter sends back, is dropped:
  /// never handed out, never committed. 0: each record is decoded on the
  /// application's thread as it is handed out.
  unsigned decode_threads = 1;
  /// The bound on what is held ahead of the application. Records are
  /// fetched ahead while what is held as fetched (plus 512 B a record) and
  /// what is held decoded (serialized size, which can be a thousand times
  /// what was fetched) stay below it; decoding ahead stops while the
  /// decoded alone reach it, past it by one record per decoder at most.
  /// As fetched records give way to decoded ones, up to about twice this
  /// is held at worst.
  std::size_t decode_ahead_bytes = std::size_t{16} << 20;
  /// A schema registry to read Confluent-framed records' schema ids in
  /// (MessageLoader): a channel that is not bound is then decoded with the
  /// type each record's schema id names, made at run time from the
  /// registry's schema (Record::message() is a DynamicMessage); on a bound
  /// channel the id must name a type the channel carries. A record whose id
  /// the registry does not know, or whose registry does not answer, fails
  /// at Stage::schema (schema_not_found, registry_unreachable) and goes to
  /// the dead letters like any record that does not decode. Ids already
  /// looked up are cached: a registry that goes away stops only new ones.
  std::shared_ptr<SchemaRegistryClient> schema_registry;

  /// Whether a channel with no type bound (and no schema registry to type
  /// its records) is refused at construction, the default, or read all the
  /// same: each of its records is handed back undecoded, failed at
  /// Stage::type (unknown_channel) with its value, key and headers kept.
  /// For tools that show bytes (`corps consume --raw`); such records go to
  /// the dead letters like any record that does not decode.
  bool read_unbound_channels = false;
  /// Where to count what this consumer does (records consumed per channel
  /// and partition, decode failures by stage, decode time, dead letters,
  /// handler retries, lag, and librdkafka's statistics, updated as it
  /// polls); null: nothing is counted. Serve it with a corps::MetricsServer.
  std::shared_ptr<Metrics> metrics;
  /// How run() retries a handler that throws.
  RetryPolicy retry;
  /// Where records that cannot be decoded or handled go. Unset: nowhere;
  /// run() then stops at such a record instead of skipping it.
  std::optional<DeadLetterOptions> dead_letters;
  /// Raw librdkafka properties, applied last (they override the above).
  /// Those that decide when offsets are stored and committed
  /// (enable.auto.commit, auto.commit.enable, enable.auto.offset.store) and
  /// enable.partition.eof are corps's: setting them is refused
  /// (Stage::config); commit_mode says how offsets are committed.
  std::map<std::string, std::string> properties;
};

/// One partition of a topic.
struct TopicPartition {
  std::string topic;
  std::int32_t partition = -1;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

/// How far behind the end of one partition a consumer is.
struct PartitionLag {
  TopicPartition partition;
  /// The offset of the next record this consumer will read, or -1 if unknown.
  std::int64_t position = -1;
  /// The offset the next record written to the partition will get, or -1.
  std::int64_t high_watermark = -1;
  /// Records written but not yet read (high_watermark - position), or -1.
  std::int64_t lag = -1;
};

/// Fails (Stage::config, Errc::too_large) if `producer` may send records
/// larger than `consumer` can fetch, naming both limits.
[[nodiscard]] Status check_record_limits(const ProducerOptions& producer,
                                         const ConsumerOptions& consumer);

/// Handles one decoded record; throwing means it was not handled.
using RecordHandler = std::function<void(const Record&)>;

/// Receives typed records. Not thread-safe, except stop(), which any thread
/// or signal handler may call. Neither copyable nor movable.
class Consumer {
 public:
  class iterator;
  /// Marks the end of iteration.
  struct sentinel {};

  /// Connects and subscribes. Throws corps::Exception for bad options
  /// (Stage::config), an unbound channel (Stage::subscribe), or no broker
  /// answering within connect_timeout (Stage::connect).
  Consumer(ChannelRegistry registry, ConsumerOptions options);
  /// close(), logging rather than throwing any failure. While an exception
  /// propagates, the last returned record is left unhandled (delivered again).
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  /// The next record, or nullopt if none arrived within `timeout` or the
  /// consumer was stopped. Marks the previously returned record handled.
  /// With a dead-letter channel, a record that does not decode is written
  /// there before it is returned; should that write fail, the record comes
  /// back failed at Stage::dead_letter and is fetched again by the next poll.
  [[nodiscard]] std::optional<Record> poll(std::chrono::milliseconds timeout);

  /// Calls `handle` for each decoded record until stop() or a shutdown
  /// signal. A handler that throws is called again, up to retry.max_attempts
  /// times with backoff; a record still failing, or one that did not decode,
  /// is written to the dead-letter channel and then counts as handled. If the
  /// dead-letter write fails, the record is fetched again and the write
  /// retried. Returns {} once stopped, or the Error of a record that could be
  /// neither handled nor dead-lettered (no dead-letter channel configured, or
  /// a fatal error); that record stays unhandled, so it is delivered again.
  Status run(const RecordHandler& handle);

  /// Writes `record` to the dead-letter channel as failed with `error`
  /// after `attempts` tries, and waits for the broker's acknowledgement; then
  /// the record counts as handled. If the write fails (or no dead-letter
  /// channel is configured) the record is fetched again by the next poll.
  Status dead_letter(const Record& record, const Error& error, int attempts = 1);

  /// Iterates records until stop(), a shutdown signal, or close().
  [[nodiscard]] iterator begin();
  [[nodiscard]] sentinel end() const noexcept { return {}; }

  /// Marks every record returned so far handled and commits synchronously,
  /// waiting at most ConsumerOptions::commit_timeout for the answer.
  Status commit();
  /// Marks `record` (and the records before it in its partition) handled and
  /// commits synchronously, waiting at most commit_timeout.
  Status commit(const Record& record);

  /// Ends iteration at the next poll. Async-signal-safe.
  void stop() noexcept;
  /// True once stop() or a shutdown signal was seen.
  [[nodiscard]] bool stopped() const noexcept;

  /// Marks the last returned record handled, commits handled records (unless
  /// CommitMode::manual) and leaves the group. Idempotent. Returns the
  /// commit's failure, if any.
  Status close();

  /// Where this consumer last found the end of `partition` (the offset the
  /// next record written there will get, as of then), if it has returned no
  /// record of the partition since; nullopt otherwise, or if the partition
  /// is not assigned. Read everything there was: every assigned partition
  /// caught up at or past the end it had when you started.
  [[nodiscard]] std::optional<std::int64_t> caught_up(const TopicPartition& partition) const;

  /// The partitions currently assigned to this member.
  [[nodiscard]] std::vector<TopicPartition> assignment() const;

  /// The lag of each assigned partition, from the client's latest fetch
  /// (no broker round trip).
  [[nodiscard]] std::vector<PartitionLag> lag() const;

  /// The oldest offset the broker still has in `partition` and the offset
  /// the next record written to it will get, asked of the broker.
  [[nodiscard]] Result<std::pair<std::int64_t, std::int64_t>> watermarks(
      const TopicPartition& partition, std::chrono::milliseconds timeout) const;

  /// The committed offset (the next record to read) of `partition`, or -1.
  [[nodiscard]] Result<std::int64_t> committed(const TopicPartition& partition,
                                               std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Input iterator over a consumer's records; advancing it marks the current
/// record handled.
class Consumer::iterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = Record;
  using difference_type = std::ptrdiff_t;
  using pointer = Record*;
  using reference = Record&;

  iterator() = default;
  explicit iterator(Consumer* consumer);
  reference operator*() const { return *current_; }
  pointer operator->() const { return current_.get(); }
  iterator& operator++();
  void operator++(int) { ++*this; }
  friend bool operator==(const iterator& it, sentinel) noexcept { return !it.current_; }

 private:
  void advance();
  Consumer* consumer_ = nullptr;
  std::shared_ptr<Record> current_;
};

}  // namespace corps
