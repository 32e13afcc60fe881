// Delivery reports: every record sent gets exactly one, through its
// callback or future. librdkafka's reports, and those of records that failed
// before librdkafka took them, are served by one thread at a time (a thread
// that sends, or the delivery thread while none does), so callbacks never
// overlap.
#include "corps/logging.hpp"
#include "detail/producer_impl.hpp"

namespace corps {

namespace detail {

thread_local const void* serving_reports_of = nullptr;

}  // namespace detail

namespace {

Persistence to_persistence(rd_kafka_msg_status_t status) {
  switch (status) {
    case RD_KAFKA_MSG_STATUS_NOT_PERSISTED: return Persistence::not_persisted;
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: return Persistence::possibly_persisted;
    case RD_KAFKA_MSG_STATUS_PERSISTED: return Persistence::persisted;
  }
  return Persistence::possibly_persisted;
}

}  // namespace

std::optional<Error> Producer::Impl::fatal_error() const {
  std::lock_guard lock(fatal_mutex);
  return fatal;
}

// Records librdkafka's fatal error, if it has raised one, once.
void Producer::Impl::note_fatal(rd_kafka_t* client) {
  char detail[512];
  const auto cause = rd_kafka_fatal_error(client, detail, sizeof detail);
  if (cause == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  std::lock_guard lock(fatal_mutex);
  if (fatal) return;
  fatal.emplace(Errc::fatal, Stage::produce,
                std::string("the producer can no longer send (") + rd_kafka_err2name(cause) + ": " +
                    detail + "); create a new Producer",
                std::nullopt, detail::kafka_error_of(cause));
  logger()->critical("{}", fatal->to_string());
}

void Producer::Impl::on_error(rd_kafka_t* client, int err, const char* reason, void* opaque) {
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
void Producer::Impl::deliver(DeliveryContext& context, const DeliveryReport& report) {
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

void Producer::Impl::keep_callback_error(std::exception_ptr error) {
  std::lock_guard lock(callback_error_mutex);
  if (!callback_error) callback_error = std::move(error);
}

// Reports a record that never reached librdkafka. A future is set at once;
// a callback waits for the thread that serves reports: this one right away
// if it may serve (a compression worker never does: a callback run there
// would hold up the records in line behind it).
void Producer::Impl::fail(std::unique_ptr<DeliveryContext> context, const RecordLocation& location,
                          Error error, Sender sender) {
  if (metrics) metrics->failed(location.topic, error.code());
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

void Producer::Impl::fail(Outgoing& record, Error error, Sender sender) {
  fail(std::move(record.context), record.location, std::move(error), sender);
}

void Producer::Impl::deliver_failed() {
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
void Producer::Impl::on_delivery(const rd_kafka_message_t* message) {
  std::unique_ptr<DeliveryContext> context(static_cast<DeliveryContext*>(message->_private));
  // librdkafka says RD_KAFKA_OFFSET_INVALID (-1001) where there is none
  // (acks=0); corps's reports say -1, as documented.
  RecordLocation location{rd_kafka_topic_name(message->rkt), message->partition,
                          message->offset >= 0 ? message->offset : -1};
  const Persistence persistence = to_persistence(rd_kafka_message_status(message));
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metrics) metrics->delivered(location.topic, location.partition);
    if (context) deliver(*context, DeliveryReport(std::move(location), persistence));
    return;
  }
  // The broker's size refusal says which setting: a topic takes records up
  // to its max.message.bytes, by default the broker's message.max.bytes,
  // 1 MiB on Kafka (the embedded broker takes any).
  const std::string why =
      message->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE
          ? " (the broker takes records up to the topic's max.message.bytes, by default its "
            "message.max.bytes, 1 MiB unless raised: raise it, or send smaller records)"
          : "";
  Error error = detail::kafka_error(message->err, Stage::delivery,
                                    "record to '" + location.topic + "' not delivered" + why,
                                    location);
  if (metrics) metrics->failed(location.topic, error.code());
  // The error callback may come later; later sends must fail already.
  note_fatal(client.get());
  if (fatal_error()) error.set_severity(Severity::fatal);
  DeliveryReport report(std::move(location), std::move(error), persistence);
  if (context) deliver(*context, report);
}

// Serves what is waiting for the application, unless another thread is
// serving: delivery reports from librdkafka (waiting up to `wait` for the
// first), reports of records that failed before librdkafka took them, and
// the records delivery callbacks deferred. One thread at a time, so
// callbacks run one at a time. Returns false if another thread was serving.
bool Producer::Impl::serve(std::chrono::milliseconds wait) {
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
        detail::serving_reports_of = outer;
        flag.store(false);
      }
    };
    {
      const Serving scope{serving, detail::serving_reports_of};
      detail::serving_reports_of = this;
      deliver_failed();
      const int wait_ms = static_cast<int>(wait.count());
      for (rd_kafka_event_t* event = rd_kafka_queue_poll(reports.get(), wait_ms); event != nullptr;
           event = rd_kafka_queue_poll(reports.get(), 0)) {
        const detail::EventPtr owned(event);
        if (rd_kafka_event_type(event) == RD_KAFKA_EVENT_STATS && metrics) {
          metrics->kafka_statistics(rd_kafka_event_stats(event));
          continue;
        }
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
bool Producer::Impl::settle(std::chrono::steady_clock::time_point deadline) {
  if (workers && !workers->wait_idle(deadline)) return false;
  for (;;) {
    if (in_flight.load() == 0) return true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) return false;
    // librdkafka sends lingering batches at once while it flushes, and
    // returns when its records' reports were served.
    (void)rd_kafka_flush(client.get(), static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
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
void Producer::Impl::delivery_loop() {
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

}  // namespace corps
