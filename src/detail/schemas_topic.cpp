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
  // An embedded broker keeps no configs and compacts nothing; one
  // partition all the same (its first request would make four). One it
  // cannot reach to create in (the address only inherited) makes the topic
  // on the first request.
  const bool embedded = is_embedded_broker(brokers);
  try {
    admin.create_topic(TopicSpec{.name = topic, .partitions = 1, .replication_factor = replicas},
                       embedded
                           ? std::map<std::string, std::string>{}
                           : std::map<std::string, std::string>{{"cleanup.policy", "compact"}});
  } catch (const Exception& e) {
    const bool exists = e.error().kafka_error() == KafkaError::topic_already_exists;
    if (!exists && !(embedded && e.error().code() == Errc::unsupported)) throw;
  }
}

}  // namespace

// The consumer that reads the topic, assigned every partition from the
// start, and how far it has read each.
struct SchemasTopic::Reader {
  KafkaPtr consumer;
  // Asks where partitions end. Not the consumer: a broker answers one
  // connection's requests in order, so behind the consumer's waiting fetch
  // each question would wait out fetch.wait.max.ms.
  KafkaPtr asker;
  std::int32_t partitions = 0;
  std::map<std::int32_t, std::int64_t> next;  // the offset each partition is read up to
  // Set by a record that is not a registry's JSON: what is after it cannot
  // be trusted either, so every later read fails the same way.
  std::optional<std::string> corrupt;
};

namespace {

// Milliseconds left until `deadline`, at least 0.
int left_until(std::chrono::steady_clock::time_point deadline) {
  return static_cast<int>(std::max<std::int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                               std::chrono::steady_clock::now())
             .count()));
}

const std::string noop_key = R"({"keytype":"NOOP","magic":0})";

}  // namespace

SchemasTopic::SchemasTopic(std::string brokers, std::string topic,
                           std::chrono::milliseconds timeout)
    : brokers_(std::move(brokers)),
      topic_(std::move(topic)),
      timeout_(timeout),
      reader_(std::make_unique<Reader>()) {
  create_compacted(brokers_, topic_, timeout_);
  ProducerOptions options;
  options.brokers = brokers_;
  options.client_id = "corps-schema-registry";
  options.delivery_timeout = timeout_;
  options.connect_timeout = timeout_;
  options.linger = std::chrono::milliseconds(0);
  producer_ = std::make_unique<Producer>(ChannelRegistry{}, options);

  Properties properties{
      {"bootstrap.servers", brokers_},
      {"group.id", "corps-schema-registry-reader"},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      // Made by the first request only on the embedded broker, which has no
      // admin API: on Kafka a registry reading on after its topic was deleted
      // must not make an empty one in its place.
      {"allow.auto.create.topics", is_embedded_broker(brokers_) ? "true" : "false"},
      {"client.id", "corps-schema-registry"}};
  auto& consumer = reader_->consumer;
  consumer = make_client(RD_KAFKA_CONSUMER, make_conf(properties));
  wait_for_brokers(consumer.get(), brokers_, timeout_);
  properties.erase("group.id");
  reader_->asker = make_client(RD_KAFKA_CONSUMER, make_conf(properties));
  const auto deadline = std::chrono::steady_clock::now() + timeout_;

  // The topic's partitions, asked for by name (which makes it on the
  // embedded broker).
  const rd_kafka_metadata_t* raw_metadata = nullptr;
  std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
      rd_kafka_topic_new(consumer.get(), topic_.c_str(), nullptr), &rd_kafka_topic_destroy);
  auto& partitions = reader_->partitions;
  while (partitions == 0) {
    const auto err =
        rd_kafka_metadata(consumer.get(), 0, handle.get(), &raw_metadata, left_until(deadline));
    MetadataPtr metadata(raw_metadata);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
        metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      partitions = metadata->topics[0].partition_cnt;
    }
    if (partitions == 0 && left_until(deadline) == 0) {
      fail(Errc::registry_unreachable,
           "the brokers at " + brokers_ + " did not describe topic '" + topic_ + "' in time");
    }
    // A topic being made answers "unknown" at once: ask again shortly,
    // rather than in a tight loop.
    if (partitions == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(left_until(deadline), 50)));
  }
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (std::int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    reader_->next[p] = 0;
  }
  if (const auto err = rd_kafka_assign(consumer.get(), assignment.get())) {
    throw Exception(kafka_error(err, Stage::schema, "reading topic '" + topic_ + "'"));
  }
}

SchemasTopic::~SchemasTopic() {
  if (reader_ && reader_->consumer) rd_kafka_consumer_close(reader_->consumer.get());
}

void SchemasTopic::send(const std::string& key, const std::optional<std::string>& value,
                        std::optional<std::int32_t> partition) {
  SendOptions send;
  send.key = key;
  send.partition = partition;
  auto report =
      producer_
          ->send_raw(topic_, value ? std::optional<std::string_view>(*value) : std::nullopt,
                     std::move(send))
          .get();
  if (!report.ok()) {
    fail(Errc::kafka_error, "the registry could not store a change in topic '" + topic_ +
                                "': " + report.error().to_string());
  }
}

void SchemasTopic::append(const SchemasRecord& record) {
  send(record.key.dump(), record.value ? std::optional(record.value->dump()) : std::nullopt,
       std::nullopt);
}

void SchemasTopic::fence() {
  for (std::int32_t p = 0; p < reader_->partitions; ++p) send(noop_key, std::nullopt, p);
}

std::vector<SchemasRecord> SchemasTopic::read_new() {
  if (reader_->corrupt) fail(Errc::corrupt_data, *reader_->corrupt);
  rd_kafka_t* consumer = reader_->consumer.get();
  auto& next = reader_->next;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  const auto left = [&] { return left_until(deadline); };

  // Where each partition ends now; those read that far are done.
  std::map<std::int32_t, std::int64_t> end_of;
  for (std::int32_t p = 0; p < reader_->partitions; ++p) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    const auto err = query_watermarks(reader_->asker.get(), topic_, p, low, high,
                                      std::chrono::milliseconds(left()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(kafka_error(err, Stage::schema, "reading where topic '" + topic_ + "' ends"));
    }
    if (high > next[p]) end_of[p] = high;
  }
  std::vector<SchemasRecord> records;
  const auto read_up_to = [&](std::int32_t partition, std::int64_t offset) {
    auto& position = next[partition];
    position = std::max(position, offset);
    const auto done = end_of.find(partition);
    if (done != end_of.end() && position >= done->second) end_of.erase(done);
  };
  while (!end_of.empty()) {
    if (left() == 0)
      fail(Errc::timed_out, "topic '" + topic_ + "' was not read to its end in time");
    MessagePtr message(rd_kafka_consumer_poll(consumer, std::min(left(), 200)));
    if (!message) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      read_up_to(message->partition, message->offset);
      continue;
    }
    if (message->err) {
      // A broker that drops the connection or restarts is the client's to
      // retry; the deadline still bounds the read.
      const bool passing = message->err == RD_KAFKA_RESP_ERR__TRANSPORT ||
                           message->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                           message->err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                           message->err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT;
      if (passing) continue;
      throw Exception(kafka_error(message->err, Stage::schema, "reading topic '" + topic_ + "'"));
    }
    // Every record polled is kept, past the end asked for too: the reader
    // does not see it again.
    read_up_to(message->partition, message->offset + 1);
    SchemasRecord record;
    try {
      record.key = nlohmann::json::parse(
          std::string_view(static_cast<const char*>(message->key), message->key_len));
      if (message->payload != nullptr) {
        record.value = nlohmann::json::parse(
            std::string_view(static_cast<const char*>(message->payload), message->len));
      }
    } catch (const nlohmann::json::exception& e) {
      reader_->corrupt = "topic '" + topic_ + "' holds a record that is not a registry's JSON at " +
                         RecordLocation{topic_, message->partition, message->offset}.to_string() +
                         ": " + e.what();
      fail(Errc::corrupt_data, *reader_->corrupt);
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace corps::detail
