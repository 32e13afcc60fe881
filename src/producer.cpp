#include "corps/producer.hpp"

#include <atomic>
#include <mutex>
#include <thread>
#include <variant>

#include "corps/logging.hpp"
#include "detail/kafka_client.hpp"

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
  std::thread poller;
  std::mutex callback_error_mutex;
  std::exception_ptr callback_error;

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
      // Never let an exception unwind into librdkafka: keep the first one
      // for flush() to re-throw on the application's thread.
      std::lock_guard lock(callback_error_mutex);
      if (!callback_error) callback_error = std::current_exception();
    }
  }

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
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
    }
    if (context) self->deliver(*context, report);
    self->in_flight.fetch_sub(1, std::memory_order_acq_rel);
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
  }

  void send(std::string_view channel, google::protobuf::Message& message, SendOptions send_options,
            std::unique_ptr<DeliveryContext> context) {
    Result<Payload> encoded = [&] {
      std::lock_guard lock(handler_mutex);
      return handler.encode(channel, message);
    }();
    const RecordLocation where{std::string(channel), send_options.partition.value_or(-1), -1};
    if (!encoded.ok()) {
      deliver(*context, DeliveryReport{where, encoded.error(), Persistence::not_persisted});
      return;
    }
    detail::HeadersPtr headers;
    if (!send_options.headers.empty() || options.type_header == TypeHeader::on) {
      headers.reset(rd_kafka_headers_new(send_options.headers.size() + 1));
      for (const auto& header : send_options.headers) {
        rd_kafka_header_add(headers.get(), header.name.data(),
                            static_cast<ssize_t>(header.name.size()),
                            header.value ? header.value->data() : nullptr,
                            header.value ? static_cast<ssize_t>(header.value->size()) : 0);
      }
      if (options.type_header == TypeHeader::on) {
        const std::string& type = message.GetDescriptor()->full_name();
        rd_kafka_header_add(headers.get(), type_header.data(),
                            static_cast<ssize_t>(type_header.size()), type.data(),
                            static_cast<ssize_t>(type.size()));
      }
    }
    Payload& value = *encoded;
    const std::string topic(channel);
    const auto deadline = std::chrono::steady_clock::now() + options.delivery_timeout;
    // librdkafka's V_ macros cast their arguments unparenthesised.
    const char* key = send_options.key ? send_options.key->data() : nullptr;
    const std::size_t key_size = send_options.key ? send_options.key->size() : 0;
    const std::int32_t partition = send_options.partition.value_or(RD_KAFKA_PARTITION_UA);
    in_flight.fetch_add(1, std::memory_order_acq_rel);
    for (;;) {
      const auto err = rd_kafka_producev(
          client.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_KEY(key, key_size),
          RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
          RD_KAFKA_V_OPAQUE(context.get()), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        // librdkafka now owns the value, the headers and the context.
        (void)value.release();
        (void)headers.release();
        (void)context.release();
        return;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && options.queue_full == QueueFull::wait &&
          std::chrono::steady_clock::now() < deadline) {
        // Back-pressure: the delivery thread drains the queue meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      in_flight.fetch_sub(1, std::memory_order_acq_rel);
      deliver(*context,
              DeliveryReport{where,
                             detail::kafka_error(err, Stage::produce,
                                                 "record to '" + topic + "' refused", where),
                             Persistence::not_persisted});
      return;
    }
  }

  void poll_loop() {
    while (!stopping.load(std::memory_order_acquire)) rd_kafka_poll(client.get(), 100);
  }
};

Producer::Producer(ChannelRegistry registry, ProducerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {
  impl_->validate();
  auto conf = detail::make_conf(impl_->properties());
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::on_delivery);
  impl_->client = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  detail::wait_for_brokers(impl_->client.get(), impl_->options.brokers,
                           impl_->options.connect_timeout);
  impl_->poller = std::thread([impl = impl_.get()] { impl->poll_loop(); });
}

Producer::~Producer() {
  const auto left = rd_kafka_flush(impl_->client.get(),
                                   static_cast<int>(impl_->options.delivery_timeout.count()));
  if (left != RD_KAFKA_RESP_ERR_NO_ERROR) {
    logger()->error(
        "producer closing with {} record(s) undelivered after {} ms; they are "
        "reported as failed",
        impl_->in_flight.load(), impl_->options.delivery_timeout.count());
  }
  impl_->stopping.store(true, std::memory_order_release);
  impl_->poller.join();
  rd_kafka_purge(impl_->client.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  // Serves the purged records' reports so every send gets one.
  (void)rd_kafka_flush(impl_->client.get(), 1000);
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

std::future<DeliveryReport> Producer::send(google::protobuf::Message& message,
                                           SendOptions options) {
  if (!impl_->options.channel) {
    throw Exception(Error(Errc::invalid_argument, Stage::produce,
                          "send() without a channel needs ProducerOptions::channel"));
  }
  return send(*impl_->options.channel, message, std::move(options));
}

Status Producer::flush(std::chrono::milliseconds timeout) {
  const auto err = rd_kafka_flush(impl_->client.get(), static_cast<int>(timeout.count()));
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

std::size_t Producer::in_flight() const noexcept {
  return impl_->in_flight.load(std::memory_order_acquire);
}

const ChannelRegistry& Producer::registry() const noexcept {
  return impl_->registry;
}

}  // namespace corps
