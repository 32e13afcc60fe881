// Producer: sends typed messages to their channels.
//
// Each send stamps the message's metadata, serializes and compresses it
// (MessageHandler), and hands the bytes to librdkafka (large values without
// a copy). Every record gets exactly one delivery report, through a callback
// or a future. Defaults favour losing nothing: idempotence on, acks=all, no
// reordering on retry, Kafka-level compression off (the value is already
// zlib).
#pragma once

#include <google/protobuf/message.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/message_handler.hpp"
#include "corps/metrics.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"
#include "corps/schema_registry.hpp"

namespace corps {

/// How many brokers must have a record before it counts as delivered.
enum class Acks {
  none,    ///< acks=0: fire and forget; the report says only that it was sent
  leader,  ///< acks=1: the partition leader wrote it
  all,     ///< acks=all: every in-sync replica wrote it
};

/// Whether the broker de-duplicates the producer's retries.
enum class Idempotence { off, on };

/// What send() does when librdkafka's local queue is full.
enum class QueueFull {
  wait,  ///< wait for room, up to ProducerOptions::delivery_timeout
  fail,  ///< report Errc::queue_full at once
};

/// Producer settings. Defaults are safe for data that must not be lost.
struct ProducerOptions {
  /// Bootstrap brokers, "host:port[,host:port...]". Required (see
  /// corps::Brokers::resolve for the flag/environment/embedded defaults).
  std::string brokers;
  /// The Kafka client id, seen in broker logs.
  std::string client_id = "corps-producer";
  /// The channel used by send(message) without a channel.
  std::optional<std::string> channel;
  Acks acks = Acks::all;
  Idempotence idempotence = Idempotence::on;
  QueueFull queue_full = QueueFull::wait;
  /// How long a record may take to be delivered, retries included.
  std::chrono::milliseconds delivery_timeout{30'000};
  /// How long to wait for records to batch up before sending.
  std::chrono::milliseconds linger{5};
  /// How long the constructor waits for a broker to answer, retrying with
  /// exponential backoff; zero skips the check.
  std::chrono::milliseconds connect_timeout{15'000};
  /// The largest record (value, key and headers) this producer sends
  /// (librdkafka's message.max.bytes); larger ones are refused before they
  /// are sent, with Errc::too_large. Brokers and consumers must accept at
  /// least this much (the topic's max.message.bytes, the consumer's
  /// ConsumerOptions::max_record_bytes).
  std::size_t max_record_bytes = 1'000'000;
  /// The most bytes waiting in the local queue; beyond it send() waits or
  /// fails (see queue_full), so memory stays bounded.
  std::size_t max_queued_bytes = std::size_t{256} << 20;
  /// The most records waiting in the local queue.
  std::size_t max_queued_records = 100'000;
  /// Stamping and compression.
  HandlerOptions handler;
  /// Threads that compress values. 1: send() compresses on the calling
  /// thread. More: send() stamps and serializes the message, then returns
  /// while a pool of this many threads compresses it, several records at
  /// once; records still reach librdkafka in the order they were sent, so
  /// every partition keeps its order. For producers of large values (video
  /// frames), where compression is most of a send's cost; small ones are
  /// faster inline.
  unsigned compression_threads = 1;
  /// The schema registry, for channels bound with WireFormat::confluent:
  /// the constructor registers (or looks up) each such channel's schema and
  /// fails if the registry refuses it, before anything is sent.
  SerializerOptions schema_registry;
  /// Where to count what this producer does (records sent, delivered and
  /// failed per channel, encode time, its queue, librdkafka's statistics);
  /// null: nothing is counted. Serve it with a corps::MetricsServer.
  std::shared_ptr<Metrics> metrics;
  /// Raw librdkafka properties, applied last (they override the above).
  std::map<std::string, std::string> properties;
};

/// How sure it is that a record reached the broker (librdkafka's
/// rd_kafka_msg_status_t).
enum class Persistence {
  not_persisted,       ///< never reached the broker; safe to resend
  possibly_persisted,  ///< sent, but no answer; resending may duplicate
  persisted,           ///< the broker acknowledged it
};

/// The outcome of one send, shaped like every corps outcome (Result, Record):
/// ok(), error() when !ok(), location(). A failed report's error says whether
/// resending may help (error().severity(): retriable, permanent, or fatal: the
/// producer is unusable) and persistence() says whether a resend could
/// duplicate.
class DeliveryReport {
 public:
  /// A delivered record.
  explicit DeliveryReport(RecordLocation location, Persistence persistence = Persistence::persisted)
      : location_(std::move(location)), persistence_(persistence) {}
  /// A record that was not delivered.
  DeliveryReport(RecordLocation location, Error error, Persistence persistence)
      : location_(std::move(location)), error_(std::move(error)), persistence_(persistence) {}

  /// True if the record was delivered.
  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  /// Why the record was not delivered; only valid when !ok().
  [[nodiscard]] const Error& error() const { return *error_; }
  /// Topic, partition and offset (offset -1 if unknown, e.g. acks=0).
  [[nodiscard]] const RecordLocation& location() const noexcept { return location_; }
  /// Whether the broker has the record, may have it, or has not.
  [[nodiscard]] Persistence persistence() const noexcept { return persistence_; }

 private:
  RecordLocation location_;
  std::optional<Error> error_;
  Persistence persistence_;
};

/// Called once per record. Callbacks run one at a time, on whichever thread
/// is serving reports: the producer's delivery thread, or a thread inside
/// send() right after its record was handed over (the thread that allocated
/// a record then frees it, so no two threads contend for one allocator).
/// Records that fail before they reach librdkafka (too large, a full queue
/// under QueueFull::fail, an encode failure, a fatal producer) are reported
/// the same way, never beside another callback.
///
/// A callback may send (send() or send_raw()), and such a send never waits:
/// with compression threads its record joins the line without waiting for
/// room, and if librdkafka's queue is full the record is deferred and handed
/// over, in send order, as soon as reports free room (or reported failed
/// with Errc::queue_full after delivery_timeout). A callback must not block
/// for long, must not take a lock that a sending thread holds around send(),
/// and must not call flush() (it returns Errc::invalid_argument there).
/// Exceptions it throws are caught and re-thrown by flush().
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

/// Per-send options.
struct SendOptions {
  /// The record key (partitions by hash when set); MessageCorps sends none.
  std::optional<std::string> key;
  /// Extra headers, sent before corps's own.
  Headers headers;
  /// A fixed partition; by default the key (or librdkafka) chooses.
  std::optional<std::int32_t> partition;
  /// Whether the message's bulk is compressed already (a JPEG frame): under
  /// zlib such a value is stored, not deflated again, and stays a zlib
  /// stream MessageCorps reads. Other codecs compress as usual.
  Compressibility compressibility = Compressibility::normal;
};

/// Sends typed messages. Thread-safe: any thread may send. Neither copyable
/// nor movable (librdkafka holds a pointer to it); hold it by value or in a
/// unique_ptr.
class Producer {
 public:
  /// Connects to `options.brokers`. Throws corps::Exception for bad options
  /// (Stage::config), an unbound default channel, or no broker answering
  /// within connect_timeout (Stage::connect).
  Producer(ChannelRegistry registry, ProducerOptions options);
  /// Flushes for up to delivery_timeout; records still undelivered then get
  /// a failed report.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Stamps `message`'s metadata in place and sends it on `channel`;
  /// `on_delivery` gets the report. Throws corps::Exception if the channel is
  /// unbound or carries another type, if `options.headers` has a
  /// `corps-codec` header (corps's own: readers would decode the value by
  /// it), or (Errc::closed) from a delivery callback run while the producer
  /// is being destroyed; every other failure goes to the report.
  void send(std::string_view channel, google::protobuf::Message& message, SendOptions options,
            DeliveryCallback on_delivery);

  /// As above, with a future for the report.
  [[nodiscard]] std::future<DeliveryReport> send(std::string_view channel,
                                                 google::protobuf::Message& message,
                                                 SendOptions options = {});

  /// Typed send: the type is checked at compile time.
  template <class T>
  [[nodiscard]] std::future<DeliveryReport> send(const Channel<T>& channel, T& message,
                                                 SendOptions options = {}) {
    return send(channel.name(), message, std::move(options));
  }
  template <class T>
  void send(const Channel<T>& channel, T& message, SendOptions options,
            DeliveryCallback on_delivery) {
    send(channel.name(), message, std::move(options), std::move(on_delivery));
  }

  /// Sends `value` to `topic` exactly as given: no stamping, compression or
  /// type check. For forwarding records already in corps's format (replaying
  /// dead letters, bridging clusters). A null `value` sends a tombstone.
  void send_raw(std::string_view topic, std::optional<std::string_view> value, SendOptions options,
                DeliveryCallback on_delivery);
  /// As above, with a future for the report.
  [[nodiscard]] std::future<DeliveryReport> send_raw(std::string_view topic,
                                                     std::optional<std::string_view> value,
                                                     SendOptions options = {});

  /// Sends on the channel of ProducerOptions::channel.
  [[nodiscard]] std::future<DeliveryReport> send(google::protobuf::Message& message,
                                                 SendOptions options = {});

  /// Waits until every record sent so far has its report, or `timeout`.
  /// Returns Errc::timed_out with the number still in flight. Re-throws the
  /// first exception a delivery callback threw since the last flush. From a
  /// delivery callback, returns Errc::invalid_argument at once: it would wait
  /// for reports that only the callback's own thread can serve.
  Status flush(std::chrono::milliseconds timeout);

  /// The error that made this producer unusable (e.g. its idempotent
  /// session was fenced), if any; every later send fails with it.
  [[nodiscard]] std::optional<Error> fatal_error() const;

  /// Records sent whose report has not been delivered yet (compressing,
  /// deferred, queued, on the wire, or failed and about to be reported).
  [[nodiscard]] std::size_t in_flight() const noexcept;

  /// The registry channels are checked against.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
