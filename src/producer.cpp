#include "corps/producer.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <variant>

#include "corps/logging.hpp"
#include "detail/kafka_client.hpp"
#include "detail/ordered_workers.hpp"

namespace corps {

namespace {

// One per record in flight; librdkafka hands it back in the delivery report.
struct DeliveryContext {
  std::variant<DeliveryCallback, std::promise<DeliveryReport>> receiver;
};

Compressibility compressibility(const SendOptions& options) {
  return options.already_compressed ? Compressibility::already_compressed : Compressibility::normal;
}

Persistence to_persistence(rd_kafka_msg_status_t status) {
  switch (status) {
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: return Persistence::not_persisted;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: return Persistence::possibly_persisted;
    case RD_KAFKA_MSG_STATUS_PERSISTED: return Persistence::persisted;
  }
  return Persistence::possibly_persisted;
}

// The `corps-codec` header for a value in `codec`: none for zlib, which is
// what a record without the header means (and all MessageCorps reads).
std::string_view codec_header_value(Codec codec) noexcept {
  return codec == Codec::zlib ? std::string_view() : to_string(codec);
}

std::string acks_value(Acks acks) {
  switch (acks) {
    case Acks::none: return "0";
    case Acks::leader: return "1";
    case Acks::all: return "all";
  }
  return "all";
}

}  // namespace

struct Producer::Impl {
  Impl(ChannelRegistry r, ProducerOptions o)
      : registry(std::move(r)), options(std::move(o)), handler(registry, options.handler) {}

  ChannelRegistry registry;
  ProducerOptions options;
  std::mutex handler_mutex;  // MessageHandler keeps per-call state
  MessageHandler handler;
  detail::KafkaPtr client;
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> stopping{false};
  detail::QueuePtr reports;             // librdkafka's main queue: delivery reports
  std::atomic<bool> serving{false};     // a thread is serving `reports`
  std::atomic<std::uint64_t> sends{0};  // records handed to librdkafka, ever
  std::thread delivery_thread;
  std::mutex callback_error_mutex;
  std::exception_ptr callback_error;
  mutable std::mutex fatal_mutex;
  std::optional<Error> fatal;        // set once librdkafka declares the client unusable
  std::size_t max_record_bytes = 0;  // message.max.bytes as finally configured
  // With compression_threads > 1: one compressor per worker, and the workers.
  std::vector<PayloadCompressor> compressors;
  std::unique_ptr<detail::OrderedWorkers> workers;

  // A record compressed by a worker, then produced in send order.
  class CompressJob final : public detail::OrderedWorkers::Item {
   public:
    CompressJob(Impl& impl, RecordLocation where, SendOptions send_options, const std::string* type,
                std::unique_ptr<DeliveryContext> context)
        : impl_(impl),
          where_(std::move(where)),
          send_options_(std::move(send_options)),
          type_(type),
          context_(std::move(context)) {}

    std::string serialized;

    // Reports a record that never reached the workers.
    void finish_with(Error error) {
      impl_.deliver(*context_,
                    DeliveryReport{where_, std::move(error), Persistence::not_persisted});
    }

    void work(unsigned worker) override {
      serialized_bytes_ = serialized.size();
      PayloadCompressor& compressor = impl_.compressors[worker];
      codec_ = compressor.codec_for(serialized.size());
      encoded_ = compressor.compress(serialized, compressibility(send_options_));
      std::string().swap(serialized);  // the record's memory goes now, not at finish
    }

    void finish(std::exception_ptr failure) noexcept override {
      if (failure) {
        finish_with(failure_of(failure, Stage::encode, "compressing"));
        return;
      }
      if (!encoded_.ok()) {
        finish_with(encoded_.error());
        return;
      }
      try {
        impl_.produce(where_, encoded_->data(), encoded_->size(), &*encoded_, send_options_, type_,
                      codec_header_value(codec_), std::move(context_));
      } catch (...) {
        // produce() leaves the context here until librdkafka has the record.
        if (context_) {
          finish_with(failure_of(std::current_exception(), Stage::produce, "handing over"));
        }
      }
    }

   private:
    // What a step threw, as the record's error. Memory is all compressing
    // and handing over ask of the system, so that is the usual cause.
    Error failure_of(const std::exception_ptr& failure, Stage stage, std::string_view doing) const {
      const std::string record = " a " + std::to_string(serialized_bytes_) + " B record";
      try {
        std::rethrow_exception(failure);
      } catch (const std::bad_alloc&) {
        return Error(Errc::too_large, stage, "out of memory " + std::string(doing) + record,
                     where_);
      } catch (const std::exception& e) {
        return Error(Errc::invalid_argument, stage,
                     std::string(doing) + record + " failed: " + e.what(), where_);
      } catch (...) {
        return Error(Errc::invalid_argument, stage,
                     std::string(doing) + record + " threw something that is not a std::exception",
                     where_);
      }
    }

    Impl& impl_;
    RecordLocation where_;
    SendOptions send_options_;
    const std::string* type_;
    Codec codec_ = Codec::zlib;  // what work() wrote the value in
    std::unique_ptr<DeliveryContext> context_;
    std::size_t serialized_bytes_ = 0;
    Result<Payload> encoded_ = Error(Errc::invalid_argument, Stage::encode, "not compressed");
  };

  void start_workers() {
    if (options.compression_threads <= 1) return;
    for (unsigned i = 0; i < options.compression_threads; ++i) {
      compressors.emplace_back(handler.codec_options());
    }
    // Two records per worker in flight keep every worker busy while the
    // finished ones wait their turn.
    workers = std::make_unique<detail::OrderedWorkers>(options.compression_threads,
                                                       2 * options.compression_threads + 2);
  }

  // Until every record given to the workers is with librdkafka.
  bool drain_workers(std::chrono::steady_clock::time_point deadline) {
    return !workers || workers->wait_idle(deadline);
  }

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
                  std::nullopt, cause);
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

  void deliver(DeliveryContext& context, const DeliveryReport& report) {
    if (auto* promise = std::get_if<std::promise<DeliveryReport>>(&context.receiver)) {
      promise->set_value(report);
      return;
    }
    auto& callback = std::get<DeliveryCallback>(context.receiver);
    if (!callback) return;
    try {
      callback(report);
    } catch (...) {
      // Never let an exception unwind into send() or the delivery thread:
      // keep the first one for flush() to re-throw.
      keep_callback_error(std::current_exception());
    }
  }

  void keep_callback_error(std::exception_ptr error) {
    std::lock_guard lock(callback_error_mutex);
    if (!callback_error) callback_error = std::move(error);
  }

  // One record's report, from a delivery-report event.
  void on_delivery(const rd_kafka_message_t* message) {
    std::unique_ptr<DeliveryContext> context(static_cast<DeliveryContext*>(message->_private));
    DeliveryReport report;
    report.where.topic = rd_kafka_topic_name(message->rkt);
    report.where.partition = message->partition;
    report.where.offset = message->offset;
    report.persistence = to_persistence(rd_kafka_message_status(message));
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      report.error =
          detail::kafka_error(message->err, Stage::delivery,
                              "record to '" + report.where.topic + "' not delivered", report.where);
      // The error callback may come later; later sends must fail already.
      note_fatal(client.get());
      if (fatal_error()) report.error->set_severity(Severity::fatal);
    }
    if (context) deliver(*context, report);
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
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
    if (options.channel) (void)registry.at(*options.channel, Stage::config);
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
    const RecordLocation where{std::string(channel), send_options.partition.value_or(-1), -1};
    if (auto error = fatal_error()) {
      deliver(*context, DeliveryReport{where, std::move(error), Persistence::not_persisted});
      return;
    }
    const std::string* type =
        options.type_header == TypeHeader::on ? &message.GetDescriptor()->full_name() : nullptr;
    if (workers) {
      auto job = std::make_unique<CompressJob>(*this, where, std::move(send_options), type,
                                               std::move(context));
      const Status serialized = [&] {
        std::lock_guard lock(handler_mutex);
        return handler.stamp_and_serialize(channel, message, job->serialized);
      }();
      if (!serialized.ok()) {
        job->finish_with(serialized.error());
        return;
      }
      workers->submit(std::move(job));
      return;
    }
    Codec codec = Codec::zlib;
    Result<Payload> encoded = [&] {
      std::lock_guard lock(handler_mutex);
      Result<Payload> value = handler.encode(channel, message, compressibility(send_options));
      codec = handler.last_codec();
      return value;
    }();
    if (!encoded.ok()) {
      deliver(*context, DeliveryReport{where, encoded.error(), Persistence::not_persisted});
      return;
    }
    produce(where, encoded->data(), encoded->size(), &*encoded, send_options, type,
            codec_header_value(codec), std::move(context));
  }

  void send_raw(std::string_view topic, std::optional<std::string_view> value,
                const SendOptions& send_options, std::unique_ptr<DeliveryContext> context) {
    const RecordLocation where{std::string(topic), send_options.partition.value_or(-1), -1};
    if (auto error = fatal_error()) {
      deliver(*context, DeliveryReport{where, std::move(error), Persistence::not_persisted});
      return;
    }
    // Behind every record the workers still hold, to keep send order.
    if (!drain_workers(std::chrono::steady_clock::now() + options.delivery_timeout)) {
      deliver(*context, DeliveryReport{where,
                                       Error(Errc::timed_out, Stage::produce,
                                             "the records sent before this one were not "
                                             "compressed within the delivery timeout",
                                             where),
                                       Persistence::not_persisted});
      return;
    }
    produce(where, value ? value->data() : nullptr, value ? value->size() : 0, nullptr,
            send_options, nullptr, {}, std::move(context));
  }

  // Hands one record to librdkafka. `owned` (may be null) is the buffer
  // behind `value`, given to librdkafka on success if it is large;
  // otherwise librdkafka copies the value.
  // `type_name` (may be null) and `codec` (empty for zlib) become corps's
  // own headers.
  void produce(const RecordLocation& where, const char* value, std::size_t size, Payload* owned,
               const SendOptions& send_options, const std::string* type_name,
               std::string_view codec, std::unique_ptr<DeliveryContext>&& context) {
    // `context` stays the caller's until librdkafka takes the record, so a
    // caller can still report the record if something here throws.
    detail::HeadersPtr headers;
    std::size_t header_bytes = 0;
    if (!send_options.headers.empty() || type_name != nullptr || !codec.empty()) {
      headers.reset(rd_kafka_headers_new(send_options.headers.size() + 2));
      for (const auto& header : send_options.headers) {
        rd_kafka_header_add(headers.get(), header.name.data(),
                            static_cast<ssize_t>(header.name.size()),
                            header.value ? header.value->data() : nullptr,
                            header.value ? static_cast<ssize_t>(header.value->size()) : 0);
        header_bytes += header.name.size() + (header.value ? header.value->size() : 0);
      }
      if (type_name != nullptr) {
        rd_kafka_header_add(headers.get(), type_header.data(),
                            static_cast<ssize_t>(type_header.size()), type_name->data(),
                            static_cast<ssize_t>(type_name->size()));
        header_bytes += type_header.size() + type_name->size();
      }
      if (!codec.empty()) {
        rd_kafka_header_add(headers.get(), codec_header.data(),
                            static_cast<ssize_t>(codec_header.size()), codec.data(),
                            static_cast<ssize_t>(codec.size()));
        header_bytes += codec_header.size() + codec.size();
      }
    }
    const std::string& topic = where.topic;
    std::optional<std::chrono::steady_clock::time_point> deadline;  // once the queue is full
    // librdkafka's V_ macros cast their arguments unparenthesised.
    const char* key = send_options.key ? send_options.key->data() : nullptr;
    const std::size_t key_size = send_options.key ? send_options.key->size() : 0;
    const std::int32_t partition = send_options.partition.value_or(RD_KAFKA_PARTITION_UA);
    // A small value is copied into librdkafka's own allocation for the
    // record, and its buffer freed here at once, where the allocator reuses
    // it for the next record. Handed over, it would be freed with thousands
    // of others when its report comes, emptying the allocator's per-thread
    // cache: slower than the copy below this size (corps_bench).
    const bool hand_over = owned != nullptr && size > copy_max_bytes;
    const int flags = hand_over ? RD_KAFKA_MSG_F_FREE : RD_KAFKA_MSG_F_COPY;
    in_flight.fetch_add(1, std::memory_order_acq_rel);
    for (;;) {
      const auto err = rd_kafka_producev(
          client.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(const_cast<char*>(value), size), RD_KAFKA_V_KEY(key, key_size),
          RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_MSGFLAGS(flags),
          RD_KAFKA_V_OPAQUE(context.get()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        // librdkafka now owns the value, the headers and the context.
        if (hand_over) (void)owned->release();
        (void)headers.release();
        (void)context.release();
        sends.fetch_add(1, std::memory_order_relaxed);
        (void)serve(std::chrono::milliseconds(0));
        return;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && options.queue_full == QueueFull::wait) {
        if (!deadline) deadline = std::chrono::steady_clock::now() + options.delivery_timeout;
        if (std::chrono::steady_clock::now() < *deadline) {
          // Back-pressure: reports free room in the queue.
          if (!serve(std::chrono::milliseconds(1)))
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
      }
      in_flight.fetch_sub(1, std::memory_order_acq_rel);
      Error error =
          detail::kafka_error(err, Stage::produce, "record to '" + topic + "' refused", where);
      if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        error = Error(Errc::too_large, Stage::produce,
                      "record to '" + topic + "' refused before sending: " + std::to_string(size) +
                          " B value + " + std::to_string(key_size) + " B key + " +
                          std::to_string(header_bytes) +
                          " B headers (with Kafka's framing) is above the producer's limit of " +
                          std::to_string(max_record_bytes) +
                          " B (ProducerOptions::max_record_bytes, message.max.bytes); raise it "
                          "here, on the topic (max.message.bytes) and on its consumers "
                          "(ConsumerOptions::max_record_bytes) together",
                      where, err);
      }
      deliver(*context, DeliveryReport{where, std::move(error), Persistence::not_persisted});
      return;
    }
  }

  // Serves delivery reports (and librdkafka's error callbacks) unless
  // another thread is serving them: reports reach the application one at a
  // time. Waits up to `wait` for the first. Returns false if another thread
  // was serving.
  bool serve(std::chrono::milliseconds wait) {
    if (serving.exchange(true, std::memory_order_acquire)) return false;
    struct Release {
      std::atomic<bool>& flag;
      ~Release() { flag.store(false, std::memory_order_release); }
    } release{serving};
    const int wait_ms = static_cast<int>(wait.count());
    for (rd_kafka_event_t* event = rd_kafka_queue_poll(reports.get(), wait_ms); event != nullptr;
         event = rd_kafka_queue_poll(reports.get(), 0)) {
      const detail::EventPtr owned(event);
      if (rd_kafka_event_type(event) != RD_KAFKA_EVENT_DR) continue;
      while (const rd_kafka_message_t* message = rd_kafka_event_message_next(event)) {
        try {
          on_delivery(message);
        } catch (...) {  // building the report ran out of memory: the others still get theirs
          keep_callback_error(std::current_exception());
        }
      }
    }
    return true;
  }

  // Values up to this size are copied into librdkafka's record (see produce).
  static constexpr std::size_t copy_max_bytes = 1024;

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
  impl_->delivery_thread = std::thread([impl = impl_.get()] { impl->delivery_loop(); });
  impl_->start_workers();
}

Producer::~Producer() {
  // Every record sent reaches librdkafka (and so gets its report) first.
  impl_->workers.reset();
  const auto left = rd_kafka_flush(impl_->client.get(),
                                   static_cast<int>(impl_->options.delivery_timeout.count()));
  if (left != RD_KAFKA_RESP_ERR_NO_ERROR) {
    logger()->error(
        "producer closing with {} record(s) undelivered after {} ms; they are "
        "reported as failed",
        impl_->in_flight.load(), impl_->options.delivery_timeout.count());
  }
  rd_kafka_purge(impl_->client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // The delivery thread serves the purged records' reports: every send gets one.
  (void)rd_kafka_flush(impl_->client.get(), 1000);
  impl_->stopping.store(true, std::memory_order_release);
  impl_->delivery_thread.join();
  (void)impl_->serve(std::chrono::milliseconds(0));  // any the thread left
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
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool drained = impl_->drain_workers(deadline);
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  const auto err = drained
                       ? rd_kafka_flush(impl_->client.get(),
                                        static_cast<int>(std::max<std::int64_t>(left.count(), 0)))
                       : RD_KAFKA_RESP_ERR__TIMED_OUT;
  {
    std::exception_ptr thrown;
    {
      std::lock_guard lock(impl_->callback_error_mutex);
      std::swap(thrown, impl_->callback_error);
    }
    if (thrown) std::rethrow_exception(thrown);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
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
  const std::size_t compressing = impl_->workers ? impl_->workers->outstanding() : 0;
  return impl_->in_flight.load(std::memory_order_acquire) + compressing;
}

const ChannelRegistry& Producer::registry() const noexcept {
  return impl_->registry;
}

}  // namespace corps
