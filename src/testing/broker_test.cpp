#include "corps/testing/broker_test.hpp"

#include <future>

#include "detail/kafka_client.hpp"

namespace corps::testing {

namespace {

void on_raw_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* promise =
      static_cast<std::promise<std::pair<rd_kafka_resp_err_t, std::int64_t>>*>(message->_private);
  promise->set_value({message->err, message->offset});
}

}  // namespace

std::vector<std::int64_t> produce_raw(const std::string& brokers, const std::string& topic,
                                      const std::vector<RawValue>& records) {
  auto conf = detail::make_conf({{"bootstrap.servers", brokers},
                                 {"client.id", "corps-testing-raw"},
                                 {"linger.ms", "0"},
                                 {"message.max.bytes", std::to_string(64 << 20)},
                                 {"message.timeout.ms", "30000"}});
  rd_kafka_conf_set_dr_msg_cb(conf.get(), on_raw_delivery);
  auto client = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  std::vector<std::int64_t> offsets;
  for (const auto& record : records) {
    std::promise<std::pair<rd_kafka_resp_err_t, std::int64_t>> delivered;
    auto future = delivered.get_future();
    detail::HeadersPtr headers(rd_kafka_headers_new(record.headers.size()));
    for (const auto& header : record.headers) {
      rd_kafka_header_add(headers.get(), header.name.data(),
                          static_cast<ssize_t>(header.name.size()),
                          header.value ? header.value->data() : nullptr,
                          header.value ? static_cast<ssize_t>(header.value->size()) : 0);
    }
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    const std::size_t value_size = record.value ? record.value->size() : 0;
    void* key = record.key ? const_cast<char*>(record.key->data()) : nullptr;
    const std::size_t key_size = record.key ? record.key->size() : 0;
    const std::int32_t partition = record.partition.value_or(RD_KAFKA_PARTITION_UA);
    rd_kafka_headers_t* raw_headers = record.headers.empty() ? nullptr : headers.get();
    const auto err = rd_kafka_producev(
        client.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_HEADERS(raw_headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(&delivered), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(
          detail::kafka_error(err, Stage::produce, "raw record to '" + topic + "' refused"));
    }
    if (raw_headers != nullptr) (void)headers.release();
    while (future.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
      rd_kafka_poll(client.get(), 50);
    }
    const auto [result, offset] = future.get();
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(detail::kafka_error(result, Stage::delivery,
                                          "raw record to '" + topic + "' not delivered"));
    }
    offsets.push_back(offset);
  }
  return offsets;
}

std::int64_t committed_offset(const std::string& brokers, const std::string& group,
                              const std::string& topic, std::int32_t partition) {
  // A consumer handle that never subscribes only sends OffsetFetch.
  auto client = detail::make_client(RD_KAFKA_CONSUMER,
                                    detail::make_conf({{"bootstrap.servers", brokers},
                                                       {"group.id", group},
                                                       {"client.id", "corps-testing-committed"}}));
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  auto err = rd_kafka_committed(client.get(), list.get(), 10000);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Exception(detail::kafka_error(
        err, Stage::commit, "cannot read the committed offset of group '" + group + "'"));
  }
  const std::int64_t offset = list->elems[0].offset;
  rd_kafka_consumer_close(client.get());
  return offset < 0 ? -1 : offset;
}

std::vector<Record> consume(Consumer& consumer, std::size_t count,
                            std::chrono::milliseconds timeout) {
  std::vector<Record> records;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (records.size() < count && std::chrono::steady_clock::now() < deadline) {
    if (auto record = consumer.poll(std::chrono::milliseconds(200)))
      records.push_back(std::move(*record));
  }
  return records;
}

BrokerTest::BrokerTest() : broker_(std::make_unique<EmbeddedBroker>()) {}

BrokerTest::BrokerTest(EmbeddedBrokerOptions options)
    : broker_(std::make_unique<EmbeddedBroker>(std::move(options))) {}

BrokerTest::~BrokerTest() = default;

void BrokerTest::create_topic(const std::string& name, int partitions, int replication_factor) {
  broker_->create_topic({name, partitions, replication_factor});
}

ProducerOptions BrokerTest::producer_options() const {
  ProducerOptions options;
  options.brokers = brokers();
  options.client_id = "test-producer";
  options.delivery_timeout = std::chrono::seconds(20);
  options.connect_timeout = std::chrono::seconds(10);
  options.linger = std::chrono::milliseconds(1);
  return options;
}

ConsumerOptions BrokerTest::consumer_options(std::string group,
                                             std::vector<std::string> channels) const {
  ConsumerOptions options;
  options.brokers = brokers();
  options.group_id = std::move(group);
  options.client_id = "test-consumer";
  options.channels = std::move(channels);
  options.connect_timeout = std::chrono::seconds(10);
  options.signals = SignalHandling::ignore;
  // Faster group membership changes than Kafka's defaults, for tests.
  options.session_timeout = std::chrono::seconds(6);
  options.properties["heartbeat.interval.ms"] = "500";
  return options;
}

}  // namespace corps::testing
