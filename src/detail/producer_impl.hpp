// Producer::Impl: the state behind corps::Producer, shared by its files:
// producer.cpp (configuration, and send: a record stamped, serialized and
// compressed by detail::RecordEncoder), producer_compression.cpp (the same
// on compression workers, in send order), producer_handover.cpp (handing
// records to librdkafka: back-pressure when its queue is full, deferral for
// records a delivery callback sends) and producer_delivery.cpp (delivery
// reports, served by one thread at a time; records that failed before
// librdkafka took them; flush and close).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "corps/producer.hpp"
#include "detail/client_metrics.hpp"
#include "detail/kafka_client.hpp"
#include "detail/ordered_workers.hpp"
#include "detail/rdkafka_handles.hpp"
#include "detail/record_encoder.hpp"

namespace corps {

namespace detail {

// One per record in flight; librdkafka hands it back in the delivery report.
struct DeliveryContext {
  std::variant<DeliveryCallback, std::promise<DeliveryReport>> receiver;
};

// A record on its way to librdkafka, with everything librdkafka has not taken
// yet: it may wait in the compression workers, or behind a full queue, after
// send() returned.
struct Outgoing {
  Outgoing(std::string_view topic, SendOptions send_options,
           std::unique_ptr<DeliveryContext> delivery_context)
      : location{std::string(topic), send_options.partition.value_or(-1), -1},
        options(std::move(send_options)),
        context(std::move(delivery_context)) {}

  RecordLocation location;  // the topic, and the partition asked for (-1: any)
  SendOptions options;      // key, headers, partition
  std::unique_ptr<DeliveryContext> context;
  std::optional<std::chrono::steady_clock::time_point> deadline;  // once the queue was full

  // The value: none (a tombstone), the caller's bytes (valid only during
  // send()), an encoded message (with the corps headers it implies), or a
  // copy made to outlive the caller.
  enum class Value { null, borrowed, encoded, copied } kind = Value::null;
  std::string_view borrowed;
  EncodedRecord encoded;
  std::string copied;

  [[nodiscard]] const char* data() const noexcept {
    switch (kind) {
      case Value::null: return nullptr;
      case Value::borrowed: return borrowed.data();
      case Value::encoded: return encoded.value.data();
      case Value::copied: return copied.data();
    }
    return nullptr;
  }
  [[nodiscard]] std::size_t size() const noexcept {
    switch (kind) {
      case Value::null: return 0;
      case Value::borrowed: return borrowed.size();
      case Value::encoded: return encoded.value.size();
      case Value::copied: return copied.size();
    }
    return 0;
  }
  // Copies borrowed bytes, so the record may outlive the send() that gave them.
  void own() {
    if (kind != Value::borrowed) return;
    copied.assign(borrowed.data(), borrowed.size());
    kind = Value::copied;
  }
};

// Who hands a record to librdkafka, which decides what it may do while the
// queue is full.
enum class Sender {
  application,  // a thread in send(): waits for room, serving reports meanwhile
  worker,       // a compression worker: waits for room; never serves reports
  callback,     // a delivery callback: never waits; the record goes out after it
};

// The producer whose reports this thread is serving, if any. A send from
// there (a delivery callback that sends) must never wait: the reports that
// would end the wait are this thread's to serve.
extern thread_local const void* serving_reports_of;

}  // namespace detail

struct Producer::Impl {
  using DeliveryContext = detail::DeliveryContext;
  using Outgoing = detail::Outgoing;
  using Sender = detail::Sender;

  Impl(ChannelRegistry r, ProducerOptions o)
      : registry(std::move(r)),
        options(std::move(o)),
        encoder(registry, options.handler),
        compressor(encoder.make_compressor()) {}

  ChannelRegistry registry;
  ProducerOptions options;
  // The record codec's produce side (MessageHandler's two halves): the
  // stamper, and the compressor and buffer of records compressed in send(),
  // are used under encoder_mutex.
  std::mutex encoder_mutex;
  detail::RecordEncoder encoder;
  PayloadCompressor compressor;
  detail::SerializedRecord serialized;
  // What is counted, if ProducerOptions::metrics is set; the collector
  // reads the client's queue when the metrics are rendered.
  std::unique_ptr<detail::ProducerMetrics> metrics;
  std::shared_ptr<void> queue_collector;
  detail::KafkaPtr client;
  // Records sent whose report has not been delivered yet, wherever they are:
  // compressing, deferred, in librdkafka, or failed and waiting to be reported.
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  // Set by the destructor once everything sent before it has its report: a
  // delivery callback's send() then throws instead of adding records
  // nobody would be left to report.
  std::atomic<bool> closing{false};
  detail::QueuePtr reports;             // librdkafka's main queue: delivery reports
  std::atomic<bool> serving{false};     // a thread is serving reports
  std::atomic<std::uint64_t> sends{0};  // records handed over by application threads, ever
  std::thread delivery_thread;
  std::mutex callback_error_mutex;
  std::exception_ptr callback_error;
  mutable std::mutex fatal_mutex;
  std::optional<Error> fatal;        // set once librdkafka declares the client unusable
  std::size_t max_record_bytes = 0;  // message.max.bytes as finally configured
  // Reports of records that failed before librdkafka took them, waiting for
  // the thread that serves reports: callbacks run one at a time, these too.
  std::mutex failed_mutex;
  std::deque<std::pair<std::unique_ptr<DeliveryContext>, DeliveryReport>> failed;
  std::atomic<std::size_t> failed_count{0};
  // Records a delivery callback sent while the queue was full, in send
  // order; the serving thread hands them over as reports free room.
  mutable std::mutex deferred_mutex;
  std::deque<std::unique_ptr<Outgoing>> deferred;
  // With compression_threads > 1: one compressor per worker, and the workers.
  std::vector<PayloadCompressor> compressors;
  std::unique_ptr<detail::OrderedWorkers> workers;

  // --- configuration and send (producer.cpp)
  detail::Properties properties() const;
  void validate() const;
  // Gives each channel bound with WireFormat::confluent its schema id
  // (producer_schemas.cpp). Throws corps::Exception (Stage::schema).
  void frame_confluent_channels();
  void send(std::string_view channel, google::protobuf::Message& message, SendOptions send_options,
            std::unique_ptr<DeliveryContext> context);
  void send_raw(std::string_view topic, std::optional<std::string_view> value,
                SendOptions send_options, std::unique_ptr<DeliveryContext> context);
  void refuse_if_closing(std::string_view topic) const;
  [[nodiscard]] bool in_callback() const noexcept { return detail::serving_reports_of == this; }

  // --- compression workers (producer_compression.cpp)
  class CompressJob;
  class InLine;
  void start_workers();
  void submit(std::unique_ptr<detail::OrderedWorkers::Item> item);
  // `started` is when send() began (set only with metrics).
  void compress_on_workers(std::string_view channel, google::protobuf::Message& message,
                           Outgoing record, std::chrono::steady_clock::time_point started);
  void send_in_line(Outgoing record);

  // --- handing records to librdkafka (producer_handover.cpp)
  void produce(Outgoing& record, Sender sender);
  rd_kafka_resp_err_t hand_over(Outgoing& record);
  Error refusal(rd_kafka_resp_err_t err, const Outgoing& record) const;
  [[nodiscard]] bool has_deferred() const;
  void defer(Outgoing& record);
  void produce_deferred();
  // Values up to this size are copied into librdkafka's record (see hand_over).
  static constexpr std::size_t copy_max_bytes = 1024;

  // --- delivery reports, flush and close (producer_delivery.cpp)
  std::optional<Error> fatal_error() const;
  // Stamps and serializes `message` for a send with `send_options`, under
  // encoder_mutex (serialize_locked: the caller holds it).
  Status serialize(std::string_view channel, google::protobuf::Message& message,
                   const SendOptions& send_options, detail::SerializedRecord& out);
  Status serialize_locked(std::string_view channel, google::protobuf::Message& message,
                          const SendOptions& send_options, detail::SerializedRecord& out);
  void note_fatal(rd_kafka_t* client);
  static void on_error(rd_kafka_t* client, int err, const char* reason, void* opaque);
  void deliver(DeliveryContext& context, const DeliveryReport& report);
  void keep_callback_error(std::exception_ptr error);
  void fail(std::unique_ptr<DeliveryContext> context, const RecordLocation& location, Error error,
            Sender sender);
  void fail(Outgoing& record, Error error, Sender sender);
  void deliver_failed();
  void on_delivery(const rd_kafka_message_t* message);
  bool serve(std::chrono::milliseconds wait);
  bool settle(std::chrono::steady_clock::time_point deadline);
  void delivery_loop();
  // How long the delivery thread leaves reports to a thread that just sent;
  // the most a report waits once sending stops.
  static constexpr std::chrono::milliseconds sender_grace{1};
};

}  // namespace corps
