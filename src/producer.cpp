#include "corps/producer.hpp"

#include <algorithm>

#include "corps/logging.hpp"
#include "detail/channel_lookup.hpp"
#include "detail/producer_impl.hpp"
#include "detail/signal_free_thread.hpp"

namespace corps {

using detail::DeliveryContext;
using detail::Outgoing;
using detail::Sender;

namespace {

std::string acks_value(Acks acks) {
  switch (acks) {
    case Acks::none: return "0";
    case Acks::leader: return "1";
    case Acks::all: return "all";
  }
  return "all";
}

}  // namespace

detail::Properties Producer::Impl::properties() const {
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
  if (options.metrics) {
    props["statistics.interval.ms"] = std::to_string(detail::ClientMetrics::statistics_interval_ms);
  }
  for (const auto& [name, value] : options.properties) props[name] = value;
  return props;
}

void Producer::Impl::validate() const {
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

// Thrown by a send from a delivery callback once the producer is closing.
void Producer::Impl::refuse_if_closing(std::string_view topic) const {
  if (!closing.load()) return;
  throw Exception(Error(Errc::closed, Stage::produce,
                        "a delivery callback sent to '" + std::string(topic) +
                            "' while the producer was being destroyed; nothing would be "
                            "left to report the record"));
}

Status Producer::Impl::serialize(std::string_view channel, google::protobuf::Message& message,
                                 const SendOptions& send_options, detail::SerializedRecord& out) {
  std::lock_guard lock(encoder_mutex);
  return serialize_locked(channel, message, send_options, out);
}

// A send whose headers carry a traceparent of the caller's (their own
// tracing injected it) is part of that trace: the message's metadata takes
// its trace id if it has none, and corps adds no trace headers of its own.
Status Producer::Impl::serialize_locked(std::string_view channel,
                                        google::protobuf::Message& message,
                                        const SendOptions& send_options,
                                        detail::SerializedRecord& out) {
  const Header* traceparent = find_header(send_options.headers, traceparent_header);
  std::optional<TraceContext> callers;
  if (traceparent != nullptr && traceparent->value)
    callers = parse_traceparent(*traceparent->value);
  std::optional<TraceScope> scope;
  if (callers) scope.emplace(std::move(*callers));
  const Status done = encoder.serialize(channel, message, send_options.compressibility, out);
  if (traceparent != nullptr) out.trace = {};
  return done;
}

void Producer::Impl::send(std::string_view channel, google::protobuf::Message& message,
                          SendOptions send_options, std::unique_ptr<DeliveryContext> context) {
  if (find_header(send_options.headers, codec_header) != nullptr) {
    throw Exception(Error(Errc::invalid_argument, Stage::produce,
                          "a typed send to '" + std::string(channel) + "' carries a '" +
                              std::string(codec_header) +
                              "' header: corps writes that header itself, from "
                              "HandlerOptions::codec, and readers decode the value by it"));
  }
  refuse_if_closing(channel);
  const Sender sender = in_callback() ? Sender::callback : Sender::application;
  Outgoing record(channel, std::move(send_options), std::move(context));
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
    const auto started =
        metrics ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    const auto count_sent = [&] {
      if (!metrics) return;
      metrics->sent(
          channel,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    if (workers) {
      // Counted by the worker, with its compressing.
      compress_on_workers(channel, message, std::move(record), started);
      return;
    }
    Result<EncodedRecord> encoded = [&]() -> Result<EncodedRecord> {
      std::lock_guard lock(encoder_mutex);
      const Status done = serialize_locked(channel, message, record.options, serialized);
      if (!done.ok()) return done.error();
      return detail::RecordEncoder::finish(serialized, compressor);
    }();
    if (!encoded.ok()) {
      fail(record, encoded.error(), sender);
      return;
    }
    record.kind = Outgoing::Value::encoded;
    record.encoded = std::move(*encoded);
    count_sent();
  } catch (...) {
    // Thrown before the record had a way to its report: none comes.
    in_flight.fetch_sub(1, std::memory_order_acq_rel);
    throw;
  }
  produce(record, sender);
}

void Producer::Impl::send_raw(std::string_view topic, std::optional<std::string_view> value,
                              SendOptions send_options, std::unique_ptr<DeliveryContext> context) {
  refuse_if_closing(topic);
  const Sender sender = in_callback() ? Sender::callback : Sender::application;
  Outgoing record(topic, std::move(send_options), std::move(context));
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
    send_in_line(std::move(record));
    return;
  }
  produce(record, sender);
}

Producer::Producer(ChannelRegistry registry, ProducerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {
  impl_->validate();
  impl_->frame_confluent_channels();
  const auto properties = impl_->properties();
  impl_->max_record_bytes = detail::size_property(properties, "message.max.bytes");
  auto conf = detail::make_conf(properties);
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  // Reports as events, served by corps (Impl::serve), not by
  // rd_kafka_poll or rd_kafka_flush: only one thread at a time runs callbacks.
  const bool counted = impl_->options.metrics != nullptr;
  rd_kafka_conf_set_events(conf.get(),
                           counted ? RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_STATS : RD_KAFKA_EVENT_DR);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  impl_->client = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  if (counted) {
    impl_->metrics =
        std::make_unique<detail::ProducerMetrics>(impl_->options.metrics, impl_->options.client_id);
    impl_->queue_collector = impl_->options.metrics->add_collector(
        [client = impl_->client.get(), id = impl_->options.client_id](Metrics& metrics) {
          metrics
              .gauge("corps_producer_queue_records",
                     "Records in the producer's queue, not yet acknowledged by the broker",
                     {{"client", id}})
              .set(static_cast<double>(rd_kafka_outq_len(client)));
        });
  }
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
  impl_->queue_collector.reset();  // before the client it reads goes
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
