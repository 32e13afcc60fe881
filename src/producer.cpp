#include "corps/producer.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <variant>

#include "corps/logging.hpp"
#include "detail/channel_lookup.hpp"
#include "detail/kafka_client.hpp"
#include "detail/ordered_workers.hpp"
#include "detail/record_encoder.hpp"
#include "detail/signal_free_thread.hpp"

namespace corps {

namespace {

// One per record in flight; librdkafka hands it back in the delivery report.
struct DeliveryContext {
  std::variant<DeliveryCallback, std::promise<DeliveryReport>> receiver;
};

Persistence to_persistence(rd_kafka_msg_status_t status) {
  switch (status) {
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: return Persistence::not_persisted;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: return Persistence::possibly_persisted;
    case RD_KAFKA_MSG_STATUS_PERSISTED: return Persistence::persisted;
  }
  return Persistence::possibly_persisted;
}

std::string acks_value(Acks acks) {
  switch (acks) {
    case Acks::none: return "0";
    case Acks::leader: return "1";
    case Acks::all: return "all";
  }
  return "all";
}

// The producer whose reports this thread is serving, if any. A send from
// there (a delivery callback that sends) must never wait: the reports that
// would end the wait are this thread's to serve.
thread_local const void* serving_reports_of = nullptr;

// A record on its way to librdkafka, with everything librdkafka has not taken
// yet: it may wait in the compression workers, or behind a full queue, after
// send() returned.
struct Outgoing {
  RecordLocation location;  // the topic, and the partition asked for (-1: any)
  SendOptions options;   // key, headers, partition
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

}  // namespace

struct Producer::Impl {
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

  // A record compressed by a worker, then produced in send order.
  class CompressJob final : public detail::OrderedWorkers::Item {
   public:
    CompressJob(Impl& impl, Outgoing record) : impl_(impl), record_(std::move(record)) {}

    detail::SerializedRecord serialized;

    // Reports a record that never reached the workers.
    void fail(Error error) { impl_.fail(record_, std::move(error), Sender::application); }

    void work(unsigned worker) override {
      serialized_bytes_ = serialized.bytes.size();
      encoded_ = detail::RecordEncoder::finish(serialized, impl_.compressors[worker]);
      std::string().swap(serialized.bytes);  // the record's memory goes now, not at finish
    }

    void finish(std::exception_ptr failure) noexcept override {
      if (failure) {
        impl_.fail(record_, failure_of(failure, Stage::encode, "compressing"), Sender::worker);
        return;
      }
      if (!encoded_.ok()) {
        impl_.fail(record_, encoded_.error(), Sender::worker);
        return;
      }
      record_.kind = Outgoing::Value::encoded;
      record_.encoded = std::move(*encoded_);
      impl_.produce(record_, Sender::worker);
    }

   private:
    // What a step threw, as the record's error. Memory is all compressing
    // asks of the system, so that is the usual cause.
    Error failure_of(const std::exception_ptr& failure, Stage stage, std::string_view doing) const {
      const std::string record = " a " + std::to_string(serialized_bytes_) + " B record";
      try {
        std::rethrow_exception(failure);
      } catch (const std::bad_alloc&) {
        return Error(Errc::too_large, stage, "out of memory " + std::string(doing) + record,
                     record_.location);
      } catch (const std::exception& e) {
        return Error(Errc::invalid_argument, stage,
                     std::string(doing) + record + " failed: " + e.what(), record_.location);
      } catch (...) {
        return Error(Errc::invalid_argument, stage,
                     std::string(doing) + record + " threw something that is not a std::exception",
                     record_.location);
      }
    }

    Impl& impl_;
    Outgoing record_;
    std::size_t serialized_bytes_ = 0;
    Result<EncodedRecord> encoded_ = Error(Errc::invalid_argument, Stage::encode, "not compressed");
  };

  // A raw record waiting its turn behind the records being compressed.
  class InLine final : public detail::OrderedWorkers::Item {
   public:
    InLine(Impl& impl, Outgoing record) : impl_(impl), record_(std::move(record)) { record_.own(); }
    void work(unsigned) override {}
    void finish(std::exception_ptr) noexcept override { impl_.produce(record_, Sender::worker); }

   private:
    Impl& impl_;
    Outgoing record_;
  };

  void start_workers() {
    if (options.compression_threads <= 1) return;
    for (unsigned i = 0; i < options.compression_threads; ++i) {
      compressors.push_back(encoder.make_compressor());
    }
    // Two records per worker in flight keep every worker busy while the
    // finished ones wait their turn.
    workers = std::make_unique<detail::OrderedWorkers>(options.compression_threads,
                                                       2 * options.compression_threads + 2);
  }

  // Hands `item` to the workers. A delivery callback does not wait for room:
  // the room may be its own record's, which cannot finish before it returns.
  void submit(std::unique_ptr<detail::OrderedWorkers::Item> item) {
    workers->submit(std::move(item), in_callback()
                                         ? detail::OrderedWorkers::Admission::immediately
                                         : detail::OrderedWorkers::Admission::wait_for_room);
  }

  [[nodiscard]] bool in_callback() const noexcept { return serving_reports_of == this; }

  std::optional<Error> fatal_error() const {
    std::lock_guard lock(fatal_mutex);
    return fatal;
  }

  // Records librdkafka's fatal error, if it has raised one, once.
  void note_fatal(rd_kafka_t* client) {
    char detail[512];
    const auto cause = rd_kafka_fatal_error(client, detail, sizeof detail);
    if (cause == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    std::lock_guard lock(fatal_mutex);
    if (fatal) return;
    fatal.emplace(Errc::fatal, Stage::produce,
                  std::string("the producer can no longer send (") + rd_kafka_err2name(cause) +
                      ": " + detail + "); create a new Producer",
                  std::nullopt, detail::kafka_error_of(cause));
    logger()->critical("{}", fatal->to_string());
  }

  static void on_error(rd_kafka_t* client, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    try {
      if (static_cast<rd_kafka_resp_err_t>(err) == RD_KAFKA_RESP_ERR__FATAL) {
        self->note_fatal(client);
        return;
      }
      logger()->warn("producer: {} ({}); retrying with backoff", reason,
                     rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
    } catch (...) {
    }
  }

  // Gives `report` to its receiver. Callbacks run only on the thread that
  // holds the serving flag; a future can be set from any thread.
  void deliver(DeliveryContext& context, const DeliveryReport& report) {
    if (auto* promise = std::get_if<std::promise<DeliveryReport>>(&context.receiver)) {
      promise->set_value(report);
    } else if (auto& callback = std::get<DeliveryCallback>(context.receiver)) {
      try {
        callback(report);
      } catch (...) {
        // Never let an exception unwind into send() or the delivery thread:
        // keep the first one for flush() to re-throw.
        keep_callback_error(std::current_exception());
      }
    }
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
  }

  void keep_callback_error(std::exception_ptr error) {
    std::lock_guard lock(callback_error_mutex);
    if (!callback_error) callback_error = std::move(error);
  }

  // Reports a record that never reached librdkafka. A future is set at once;
  // a callback waits for the thread that serves reports: this one right away
  // if it may serve (a compression worker never does: a callback run there
  // would hold up the records in line behind it).
  void fail(std::unique_ptr<DeliveryContext> context, const RecordLocation& location, Error error,
            Sender sender) {
    DeliveryReport report{location, std::move(error), Persistence::not_persisted};
    if (std::holds_alternative<std::promise<DeliveryReport>>(context->receiver)) {
      deliver(*context, report);
      return;
    }
    {
      std::lock_guard lock(failed_mutex);
      failed.emplace_back(std::move(context), std::move(report));
    }
    failed_count.fetch_add(1);
    // Wakes a thread waiting in serve() for librdkafka's reports.
    rd_kafka_queue_yield(reports.get());
    if (sender != Sender::worker) (void)serve(std::chrono::milliseconds(0));
  }
  void fail(Outgoing& record, Error error, Sender sender) {
    fail(std::move(record.context), record.location, std::move(error), sender);
  }

  // Thrown by a send from a delivery callback once the producer is closing.
  void refuse_if_closing(std::string_view topic) const {
    if (!closing.load()) return;
    throw Exception(Error(Errc::closed, Stage::produce,
                          "a delivery callback sent to '" + std::string(topic) +
                              "' while the producer was being destroyed; nothing would be "
                              "left to report the record"));
  }

  void deliver_failed() {
    if (failed_count.load() == 0) return;
    std::deque<std::pair<std::unique_ptr<DeliveryContext>, DeliveryReport>> batch;
    {
      std::lock_guard lock(failed_mutex);
      batch.swap(failed);
      failed_count.fetch_sub(batch.size());
    }
    for (auto& [context, report] : batch) deliver(*context, report);
  }

  // One record's report, from a delivery-report event.
  void on_delivery(const rd_kafka_message_t* message) {
    std::unique_ptr<DeliveryContext> context(static_cast<DeliveryContext*>(message->_private));
    // librdkafka says RD_KAFKA_OFFSET_INVALID (-1001) where there is none
    // (acks=0); corps's reports say -1, as documented.
    RecordLocation location{rd_kafka_topic_name(message->rkt), message->partition,
                            message->offset >= 0 ? message->offset : -1};
    const Persistence persistence = to_persistence(rd_kafka_message_status(message));
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (context) deliver(*context, DeliveryReport(std::move(location), persistence));
      return;
    }
    Error error = detail::kafka_error(message->err, Stage::delivery,
                                      "record to '" + location.topic + "' not delivered", location);
    // The error callback may come later; later sends must fail already.
    note_fatal(client.get());
    if (fatal_error()) error.set_severity(Severity::fatal);
    DeliveryReport report(std::move(location), std::move(error), persistence);
    if (context) deliver(*context, report);
  }

  detail::Properties properties() const {
    const bool idempotent = options.idempotence == Idempotence::on;
    detail::Properties props{
        {"bootstrap.servers", options.brokers},
        {"client.id", options.client_id},
        {"acks", acks_value(options.acks)},
        {"enable.idempotence", idempotent ? "true" : "false"},
        // Without idempotence only one request in flight keeps retries in
        // order; with it, the broker's sequence numbers do.
        {"max.in.flight.requests.per.connection", idempotent ? "5" : "1"},
        // The value is already zlib; compressing again only costs CPU.
        {"compression.type", "none"},
        // Keys land on the partitions Java clients and kafka-python pick.
        {"partitioner", "murmur2_random"},
        {"linger.ms", std::to_string(options.linger.count())},
        {"message.timeout.ms", std::to_string(options.delivery_timeout.count())},
        {"reconnect.backoff.ms", "100"},
        {"reconnect.backoff.max.ms", "10000"},
        {"message.max.bytes", std::to_string(options.max_record_bytes)},
        {"queue.buffering.max.kbytes",
         std::to_string(std::max<std::size_t>(1, options.max_queued_bytes / 1024))},
        {"queue.buffering.max.messages", std::to_string(options.max_queued_records)},
    };
    for (const auto& [name, value] : options.properties) props[name] = value;
    return props;
  }

  void validate() const {
    detail::check_brokers(options.brokers, "producer");
    if (options.idempotence == Idempotence::on && options.acks != Acks::all) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "an idempotent producer needs Acks::all; for acks=" +
                                acks_value(options.acks) + " set Idempotence::off"));
    }
    if (options.channel) (void)detail::bound_channel(registry, *options.channel, Stage::config);
    if (options.compression_threads == 0) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "compression_threads is 0; 1 compresses on the sending thread"));
    }
  }

  void send(std::string_view channel, google::protobuf::Message& message, SendOptions send_options,
            std::unique_ptr<DeliveryContext> context) {
    if (find_header(send_options.headers, codec_header) != nullptr) {
      throw Exception(Error(Errc::invalid_argument, Stage::produce,
                            "a typed send to '" + std::string(channel) + "' carries a '" +
                                std::string(codec_header) +
                                "' header: corps writes that header itself, from "
                                "HandlerOptions::codec, and readers decode the value by it"));
    }
    refuse_if_closing(channel);
    const Sender sender = in_callback() ? Sender::callback : Sender::application;
    Outgoing record;
    record.location = RecordLocation{std::string(channel), send_options.partition.value_or(-1), -1};
    record.options = std::move(send_options);
    record.context = std::move(context);
    // From here on the record gets a report; until then (an unbound channel
    // or the wrong type, which throw) it does not.
    in_flight.fetch_add(1, std::memory_order_acq_rel);
    try {
      if (auto error = fatal_error()) {
        fail(record, std::move(*error), sender);
        return;
      }
      // Stamped and serialized here, while the message is the caller's;
      // compressed here too, or by a worker (RecordEncoder::finish either way).
      const Compressibility compressibility = record.options.compressibility;
      if (workers) {
        auto job = std::make_unique<CompressJob>(*this, std::move(record));
        const Status serialized = [&] {
          std::lock_guard lock(encoder_mutex);
          return encoder.serialize(channel, message, compressibility, job->serialized);
        }();
        if (!serialized.ok()) {
          job->fail(serialized.error());
          return;
        }
        submit(std::move(job));
        return;
      }
      Result<EncodedRecord> encoded = [&]() -> Result<EncodedRecord> {
        std::lock_guard lock(encoder_mutex);
        const Status done = encoder.serialize(channel, message, compressibility, serialized);
        if (!done.ok()) return done.error();
        return detail::RecordEncoder::finish(serialized, compressor);
      }();
      if (!encoded.ok()) {
        fail(record, encoded.error(), sender);
        return;
      }
      record.kind = Outgoing::Value::encoded;
      record.encoded = std::move(*encoded);
    } catch (...) {
      // Thrown before the record had a way to its report: none comes.
      in_flight.fetch_sub(1, std::memory_order_acq_rel);
      throw;
    }
    produce(record, sender);
  }

  void send_raw(std::string_view topic, std::optional<std::string_view> value,
                SendOptions send_options, std::unique_ptr<DeliveryContext> context) {
    refuse_if_closing(topic);
    const Sender sender = in_callback() ? Sender::callback : Sender::application;
    Outgoing record;
    record.location = RecordLocation{std::string(topic), send_options.partition.value_or(-1), -1};
    record.options = std::move(send_options);
    record.context = std::move(context);
    if (value) {
      record.kind = Outgoing::Value::borrowed;
      record.borrowed = *value;
    }
    in_flight.fetch_add(1, std::memory_order_acq_rel);
    if (auto error = fatal_error()) {
      fail(record, std::move(*error), sender);
      return;
    }
    if (workers) {
      // Behind every record the workers hold, to keep send order.
      submit(std::make_unique<InLine>(*this, std::move(record)));
      return;
    }
    produce(record, sender);
  }

  // Hands `record` to librdkafka, waiting for room as `sender` may, or
  // reports why it could not. A callback's record that finds the queue full
  // (or others deferred before it) is deferred, to go out after it.
  void produce(Outgoing& record, Sender sender) {
    if (sender == Sender::callback && has_deferred()) {
      defer(record);
      return;
    }
    for (;;) {
      const auto err = hand_over(record);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (sender == Sender::application) {
          sends.fetch_add(1, std::memory_order_relaxed);
          (void)serve(std::chrono::milliseconds(0));
        }
        return;
      }
      // Once closing, a record that finds no room is not waited for: the
      // destructor has its own deadline.
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && options.queue_full == QueueFull::wait &&
          !closing.load()) {
        const auto now = std::chrono::steady_clock::now();
        if (!record.deadline) record.deadline = now + options.delivery_timeout;
        if (now < *record.deadline) {
          if (sender == Sender::callback) {
            defer(record);
            return;
          }
          // Back-pressure: reports free room in the queue.
          if (sender == Sender::worker || !serve(std::chrono::milliseconds(1))) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          continue;
        }
      }
      fail(record, refusal(err, record), sender);
      return;
    }
  }

  // Values up to this size are copied into librdkafka's record (see hand_over).
  static constexpr std::size_t copy_max_bytes = 1024;

  // One attempt to give `record` to librdkafka. On success librdkafka owns
  // its value (if encoded and large), its headers and its context.
  rd_kafka_resp_err_t hand_over(Outgoing& record) {
    const SendOptions& send_options = record.options;
    detail::HeadersPtr headers;
    const auto corps_headers = record.kind == Outgoing::Value::encoded
                                   ? record.encoded.headers()
                                   : EncodedRecord::CorpsHeaders{};
    if (!send_options.headers.empty() || corps_headers.size() != 0) {
      headers.reset(rd_kafka_headers_new(send_options.headers.size() + corps_headers.size()));
      for (const auto& header : send_options.headers) {
        rd_kafka_header_add(headers.get(), header.name.data(),
                            static_cast<ssize_t>(header.name.size()),
                            header.value ? header.value->data() : nullptr,
                            header.value ? static_cast<ssize_t>(header.value->size()) : 0);
      }
      for (const auto& [name, value] : corps_headers) {
        rd_kafka_header_add(headers.get(), name.data(), static_cast<ssize_t>(name.size()),
                            value.data(), static_cast<ssize_t>(value.size()));
      }
    }
    // librdkafka's V_ macros cast their arguments unparenthesised.
    const char* key = send_options.key ? send_options.key->data() : nullptr;
    const std::size_t key_size = send_options.key ? send_options.key->size() : 0;
    const std::int32_t partition = send_options.partition.value_or(RD_KAFKA_PARTITION_UA);
    char* value = const_cast<char*>(record.data());
    const std::size_t size = record.size();
    // A small value is copied into librdkafka's own allocation for the
    // record, and its buffer freed here at once, where the allocator reuses
    // it for the next record. Handed over, it would be freed with thousands
    // of others when its report comes, emptying the allocator's per-thread
    // cache: slower than the copy below this size (corps_bench).
    const bool give = record.kind == Outgoing::Value::encoded && size > copy_max_bytes;
    const int flags = give ? RD_KAFKA_MSG_F_FREE : RD_KAFKA_MSG_F_COPY;
    const auto err = rd_kafka_producev(
        client.get(), RD_KAFKA_V_TOPIC(record.location.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(value, size), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_MSGFLAGS(flags),
        RD_KAFKA_V_OPAQUE(record.context.get()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (give) (void)record.encoded.value.release();
      (void)headers.release();
      (void)record.context.release();
    }
    return err;
  }

  // Why librdkafka refused `record`, as its report's error.
  Error refusal(rd_kafka_resp_err_t err, const Outgoing& record) const {
    const std::string& topic = record.location.topic;
    if (err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
      return detail::kafka_error(err, Stage::produce, "record to '" + topic + "' refused",
                                 record.location);
    }
    std::size_t header_bytes = 0;
    for (const auto& header : record.options.headers) {
      header_bytes += header.name.size() + (header.value ? header.value->size() : 0);
    }
    if (record.kind == Outgoing::Value::encoded) {
      for (const auto& [name, value] : record.encoded.headers()) {
        header_bytes += name.size() + value.size();
      }
    }
    const std::size_t key_size = record.options.key ? record.options.key->size() : 0;
    return Error(Errc::too_large, Stage::produce,
                 "record to '" + topic +
                     "' refused before sending: " + std::to_string(record.size()) + " B value + " +
                     std::to_string(key_size) + " B key + " + std::to_string(header_bytes) +
                     " B headers (with Kafka's framing) is above the producer's limit of " +
                     std::to_string(max_record_bytes) +
                     " B (ProducerOptions::max_record_bytes, message.max.bytes); raise it "
                     "here, on the topic (max.message.bytes) and on its consumers "
                     "(ConsumerOptions::max_record_bytes) together",
                 record.location, detail::kafka_error_of(err));
  }

  [[nodiscard]] bool has_deferred() const {
    std::lock_guard lock(deferred_mutex);
    return !deferred.empty();
  }

  void defer(Outgoing& record) {
    auto kept = std::make_unique<Outgoing>(std::move(record));
    kept->own();
    if (!kept->deadline)
      kept->deadline = std::chrono::steady_clock::now() + options.delivery_timeout;
    std::lock_guard lock(deferred_mutex);
    deferred.push_back(std::move(kept));
  }

  // Hands over the deferred records while there is room, in order; reports
  // those whose time ran out or that librdkafka refused. On the serving
  // thread only.
  void produce_deferred() {
    for (;;) {
      std::unique_ptr<Outgoing> record;
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      {
        std::lock_guard lock(deferred_mutex);
        if (deferred.empty()) return;
        err = hand_over(*deferred.front());
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL &&
            std::chrono::steady_clock::now() < *deferred.front()->deadline) {
          return;  // still no room: the next reports make some
        }
        record = std::move(deferred.front());
        deferred.pop_front();
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) fail(*record, refusal(err, *record), Sender::callback);
    }
  }

  // Serves what is waiting for the application, unless another thread is
  // serving: delivery reports from librdkafka (waiting up to `wait` for the
  // first), reports of records that failed before librdkafka took them, and
  // the records delivery callbacks deferred. One thread at a time, so
  // callbacks run one at a time. Returns false if another thread was serving.
  bool serve(std::chrono::milliseconds wait) {
    bool served = false;
    for (;;) {
      if (serving.exchange(true)) return served;
      served = true;
      // Released however this pass ends (out of memory included), or no
      // thread would serve reports again.
      struct Serving {
        std::atomic<bool>& flag;
        const void* outer;
        ~Serving() {
          serving_reports_of = outer;
          flag.store(false);
        }
      };
      {
        const Serving scope{serving, serving_reports_of};
        serving_reports_of = this;
        deliver_failed();
        const int wait_ms = static_cast<int>(wait.count());
        for (rd_kafka_event_t* event = rd_kafka_queue_poll(reports.get(), wait_ms);
             event != nullptr; event = rd_kafka_queue_poll(reports.get(), 0)) {
          const detail::EventPtr owned(event);
          if (rd_kafka_event_type(event) != RD_KAFKA_EVENT_DR) continue;
          while (const rd_kafka_message_t* message = rd_kafka_event_message_next(event)) {
            try {
              on_delivery(message);
            } catch (...) {  // building the report ran out of memory: the others still get theirs
              keep_callback_error(std::current_exception());
            }
          }
          produce_deferred();
        }
        produce_deferred();
        deliver_failed();
      }
      // A report may have failed while this thread held the flag, after it
      // looked: its thread left it here.
      if (failed_count.load() == 0) return true;
      wait = std::chrono::milliseconds(0);
    }
  }

  // Until every record sent has its report delivered, or the deadline.
  bool settle(std::chrono::steady_clock::time_point deadline) {
    if (workers && !workers->wait_idle(deadline)) return false;
    for (;;) {
      if (in_flight.load() == 0) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= std::chrono::milliseconds(0)) return false;
      // librdkafka sends lingering batches at once while it flushes, and
      // returns when its records' reports were served.
      (void)rd_kafka_flush(client.get(),
                           static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
      if (in_flight.load() == 0) return true;
      // Deferred records and failed reports: served here or by the delivery thread.
      if (!serve(std::chrono::milliseconds(1))) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }

  // The delivery thread serves reports while no thread is sending. A thread
  // that sends serves them itself, after each record: librdkafka then frees
  // each record on the thread that allocated it, instead of two threads
  // contending for one malloc arena, which cost a small record half its
  // speed (corps_bench, small messages).
  void delivery_loop() {
    std::uint64_t seen = sends.load(std::memory_order_relaxed);
    while (!stopping.load(std::memory_order_acquire)) {
      const std::uint64_t now = sends.load(std::memory_order_relaxed);
      if (now != seen) {
        seen = now;
        std::this_thread::sleep_for(sender_grace);
        continue;
      }
      if (!serve(std::chrono::milliseconds(100))) std::this_thread::sleep_for(sender_grace);
    }
  }

  // How long the delivery thread leaves reports to a thread that just sent;
  // the most a report waits once sending stops.
  static constexpr std::chrono::milliseconds sender_grace{1};
};

Producer::Producer(ChannelRegistry registry, ProducerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {
  impl_->validate();
  const auto properties = impl_->properties();
  impl_->max_record_bytes = detail::size_property(properties, "message.max.bytes");
  auto conf = detail::make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  // Reports as events, served by corps (Impl::serve), not by
  // rd_kafka_poll or rd_kafka_flush: only one thread at a time runs callbacks.
  rd_kafka_conf_set_events(conf.get(), RD_KAFKA_EVENT_DR);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  impl_->client = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->reports.reset(rd_kafka_queue_get_main(impl_->client.get()));
  detail::wait_for_brokers(impl_->client.get(), impl_->options.brokers,
                           impl_->options.connect_timeout);
  impl_->delivery_thread =
      detail::signal_free_thread([impl = impl_.get()] { impl->delivery_loop(); });
  impl_->start_workers();
}

Producer::~Producer() {
  // Everything sent before the destructor reaches librdkafka and gets its
  // report, within delivery_timeout.
  const auto deadline = std::chrono::steady_clock::now() + impl_->options.delivery_timeout;
  if (!impl_->settle(deadline)) {
    logger()->error(
        "producer closing with {} record(s) undelivered after {} ms; they are "
        "reported as failed",
        impl_->in_flight.load(), impl_->options.delivery_timeout.count());
  }
  // From here a callback's send() throws, and records still in line fail
  // at once rather than wait for room.
  impl_->closing.store(true);
  rd_kafka_purge(impl_->client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // The workers finish what they hold (handed over, or failed for room).
  if (impl_->workers)
    (void)impl_->workers->wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  rd_kafka_purge(impl_->client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // The delivery thread serves the purged records' reports: every send gets one.
  (void)rd_kafka_flush(impl_->client.get(), 1000);
  impl_->stopping.store(true, std::memory_order_release);
  impl_->delivery_thread.join();
  // Records deferred by callbacks that never found room.
  for (;;) {
    std::unique_ptr<Outgoing> record;
    {
      std::lock_guard lock(impl_->deferred_mutex);
      if (impl_->deferred.empty()) break;
      record = std::move(impl_->deferred.front());
      impl_->deferred.pop_front();
    }
    impl_->fail(*record,
                Error(Errc::timed_out, Stage::produce,
                      "the producer closed before there was room for the record", record->location),
                Sender::worker);
  }
  (void)impl_->serve(std::chrono::milliseconds(0));  // any the thread left
  // Nothing can send now: the workers go last, so no callback ever found
  // them gone.
  impl_->workers.reset();
}

void Producer::send(std::string_view channel, google::protobuf::Message& message,
                    SendOptions options, DeliveryCallback on_delivery) {
  auto context = std::make_unique<DeliveryContext>();
  context->receiver = std::move(on_delivery);
  impl_->send(channel, message, std::move(options), std::move(context));
}

std::future<DeliveryReport> Producer::send(std::string_view channel,
                                           google::protobuf::Message& message,
                                           SendOptions options) {
  auto context = std::make_unique<DeliveryContext>();
  auto& promise = context->receiver.emplace<std::promise<DeliveryReport>>();
  auto future = promise.get_future();
  impl_->send(channel, message, std::move(options), std::move(context));
  return future;
}

void Producer::send_raw(std::string_view topic, std::optional<std::string_view> value,
                        SendOptions options, DeliveryCallback on_delivery) {
  auto context = std::make_unique<DeliveryContext>();
  context->receiver = std::move(on_delivery);
  impl_->send_raw(topic, value, options, std::move(context));
}

std::future<DeliveryReport> Producer::send_raw(std::string_view topic,
                                               std::optional<std::string_view> value,
                                               SendOptions options) {
  auto context = std::make_unique<DeliveryContext>();
  auto& promise = context->receiver.emplace<std::promise<DeliveryReport>>();
  auto future = promise.get_future();
  impl_->send_raw(topic, value, options, std::move(context));
  return future;
}

std::future<DeliveryReport> Producer::send(google::protobuf::Message& message,
                                           SendOptions options) {
  if (!impl_->options.channel) {
    throw Exception(Error(Errc::invalid_argument, Stage::produce,
                          "send() without a channel needs ProducerOptions::channel"));
  }
  return send(*impl_->options.channel, message, std::move(options));
}

Status Producer::flush(std::chrono::milliseconds timeout) {
  if (impl_->in_callback()) {
    return Error(Errc::invalid_argument, Stage::delivery,
                 "flush() from a delivery callback would wait for reports that only the "
                 "callback's own thread can serve; flush from another thread");
  }
  const bool settled = impl_->settle(std::chrono::steady_clock::now() + timeout);
  {
    std::exception_ptr thrown;
    {
      std::lock_guard lock(impl_->callback_error_mutex);
      std::swap(thrown, impl_->callback_error);
    }
    if (thrown) std::rethrow_exception(thrown);
  }
  if (!settled) {
    return Error(Errc::timed_out, Stage::delivery,
                 std::to_string(in_flight()) + " record(s) still undelivered after " +
                     std::to_string(timeout.count()) + " ms");
  }
  return {};
}

std::optional<Error> Producer::fatal_error() const {
  return impl_->fatal_error();
}

std::size_t Producer::in_flight() const noexcept {
  return impl_->in_flight.load(std::memory_order_acquire);
}

const ChannelRegistry& Producer::registry() const noexcept {
  return impl_->registry;
}

}  // namespace corps
