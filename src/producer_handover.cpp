// Handing records to librdkafka: one attempt (hand_over), waiting for room
// while its queue is full (back-pressure) as the sending thread may, and
// records a delivery callback sent, deferred to go out after it.
#include "detail/producer_impl.hpp"

namespace corps {

// Hands `record` to librdkafka, waiting for room as `sender` may, or
// reports why it could not. A callback's record that finds the queue full
// (or others deferred before it) is deferred, to go out after it.
void Producer::Impl::produce(Outgoing& record, Sender sender) {
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

// One attempt to give `record` to librdkafka. On success librdkafka owns
// its value (if encoded and large), its headers and its context.
rd_kafka_resp_err_t Producer::Impl::hand_over(Outgoing& record) {
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
  const auto err = rd_kafka_producev(client.get(), RD_KAFKA_V_TOPIC(record.location.topic.c_str()),
                                     RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE(value, size),
                                     RD_KAFKA_V_KEY(key, key_size),
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
Error Producer::Impl::refusal(rd_kafka_resp_err_t err, const Outgoing& record) const {
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

bool Producer::Impl::has_deferred() const {
  std::lock_guard lock(deferred_mutex);
  return !deferred.empty();
}

void Producer::Impl::defer(Outgoing& record) {
  auto kept = std::make_unique<Outgoing>(std::move(record));
  kept->own();
  if (!kept->deadline) kept->deadline = std::chrono::steady_clock::now() + options.delivery_timeout;
  std::lock_guard lock(deferred_mutex);
  deferred.push_back(std::move(kept));
}

// Hands over the deferred records while there is room, in order; reports
// those whose time ran out or that librdkafka refused. On the serving
// thread only.
void Producer::Impl::produce_deferred() {
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

}  // namespace corps
