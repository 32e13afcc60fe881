#include "detail/schemas_topic.hpp"

#include <algorithm>
#include <map>
#include <thread>

#include "corps/admin.hpp"
#include "corps/config.hpp"
#include "corps/producer.hpp"
#include "detail/kafka_client.hpp"

namespace corps::detail {

namespace {

[[noreturn]] void fail(Errc code, const std::string& message) {
  throw Exception(Error(code, Stage::schema, message));
}

void create_compacted(const std::string& brokers, const std::string& topic,
                      std::chrono::milliseconds timeout) {
  if (is_embedded_broker(brokers)) return;  // no admin API: the first request makes it
  Admin admin(AdminOptions{.brokers = brokers, .timeout = timeout, .properties = {}});
  // A topic already there needs no creating, nor the right to create one
  // (nor a broker with the admin API: an embedded broker in another process
  // that was started with the topic).
  const auto topics = admin.list_topics();
  if (std::any_of(topics.begin(), topics.end(),
                  [&](const auto& existing) { return existing.name == topic; })) {
    return;
  }
  // On three brokers where there are three, as Confluent's registry does
  // (kafkastore.topic.replication.factor): the registry's every id lives
  // here, and one broker lost must not lose them.
  const int replicas = std::min(3, static_cast<int>(admin.brokers().size()));
  try {
    admin.create_topic(TopicSpec{.name = topic, .partitions = 1, .replication_factor = replicas},
                       {{"cleanup.policy", "compact"}});
  } catch (const Exception& e) {
    if (e.error().kafka_error() != KafkaError::topic_already_exists) throw;
  }
}

}  // namespace

SchemasTopic::SchemasTopic(std::string brokers, std::string topic,
                           std::chrono::milliseconds timeout)
    : brokers_(std::move(brokers)), topic_(std::move(topic)), timeout_(timeout) {
  create_compacted(brokers_, topic_, timeout_);
  ProducerOptions options;
  options.brokers = brokers_;
  options.client_id = "corps-schema-registry";
  options.delivery_timeout = timeout_;
  options.connect_timeout = timeout_;
  options.linger = std::chrono::milliseconds(0);
  producer_ = std::make_unique<Producer>(ChannelRegistry{}, options);
}

SchemasTopic::~SchemasTopic() = default;

void SchemasTopic::append(const SchemasRecord& record) {
  SendOptions send;
  send.key = record.key.dump();
  const std::string value = record.value ? record.value->dump() : std::string();
  auto report =
      producer_
          ->send_raw(topic_, record.value ? std::optional<std::string_view>(value) : std::nullopt,
                     std::move(send))
          .get();
  if (!report.ok()) {
    fail(Errc::kafka_error, "the registry could not store a change in topic '" + topic_ +
                                "': " + report.error().to_string());
  }
}

std::vector<SchemasRecord> SchemasTopic::read_all() const {
  Properties properties{
      {"bootstrap.servers", brokers_},      {"group.id", "corps-schema-registry-reader"},
      {"enable.auto.commit", "false"},      {"enable.partition.eof", "true"},
      {"allow.auto.create.topics", "true"}, {"client.id", "corps-schema-registry"}};
  KafkaPtr consumer = make_client(RD_KAFKA_CONSUMER, make_conf(properties));
  wait_for_brokers(consumer.get(), brokers_, timeout_);
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const auto left = [&] {
    return static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now())
               .count()));
  };

  // The topic's partitions, asked for by name (which makes it on the
  // embedded broker).
  const rd_kafka_metadata_t* raw_metadata = nullptr;
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
      rd_kafka_topic_new(consumer.get(), topic_.c_str(), nullptr), &rd_kafka_topic_destroy);
  int partitions = 0;
  while (partitions == 0) {
    const auto err = rd_kafka_metadata(consumer.get(), 0, handle.get(), &raw_metadata, left());
    MetadataPtr metadata(raw_metadata);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
        metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partitions = metadata->topics[0].partition_cnt;
    }
    if (partitions == 0 && left() == 0) {
      fail(Errc::registry_unreachable,
           "the brokers at " + brokers_ + " did not describe topic '" + topic_ + "' in time");
    }
    // A topic being made answers "unknown" at once: ask again shortly,
    // rather than in a tight loop.
    if (partitions == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left(), 50)));
  }

  // Where each partition ends now; only partitions with records are read.
  std::map<std::int32_t, std::int64_t> end_of;
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (std::int32_t p = 0; p < partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    const auto err =
        query_watermarks(consumer.get(), topic_, p, low, high, std::chrono::milliseconds(left()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(kafka_error(err, Stage::schema, "reading where topic '" + topic_ + "' ends"));
    }
    if (high > low) {
      end_of[p] = high;
      rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
  }
  std::vector<SchemasRecord> records;
  if (end_of.empty()) return records;
  if (const auto err = rd_kafka_assign(consumer.get(), assignment.get())) {
    throw Exception(kafka_error(err, Stage::schema, "reading topic '" + topic_ + "'"));
  }
  while (!end_of.empty()) {
    if (left() == 0)
      fail(Errc::timed_out, "topic '" + topic_ + "' was not read to its end in time");
    MessagePtr message(rd_kafka_consumer_poll(consumer.get(), std::min(left(), 200)));
    if (!message) continue;
    const auto done = end_of.find(message->partition);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (done != end_of.end() && message->offset >= done->second) end_of.erase(done);
      continue;
    }
    if (message->err) {
      throw Exception(kafka_error(message->err, Stage::schema, "reading topic '" + topic_ + "'"));
    }
    if (done != end_of.end() && message->offset + 1 >= done->second) end_of.erase(done);
    SchemasRecord record;
    try {
      record.key = nlohmann::json::parse(
          std::string_view(static_cast<const char*>(message->key), message->key_len));
      if (message->payload != nullptr) {
        record.value = nlohmann::json::parse(
            std::string_view(static_cast<const char*>(message->payload), message->len));
      }
    } catch (const nlohmann::json::exception& e) {
      fail(Errc::corrupt_data,
           "topic '" + topic_ + "' holds a record that is not a registry's JSON at " +
               RecordLocation{topic_, message->partition, message->offset}.to_string() + ": " +
               e.what());
    }
    records.push_back(std::move(record));
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace corps::detail
