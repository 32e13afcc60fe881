#include "detail/client_metrics.hpp"

#include <nlohmann/json.hpp>

#include "corps/logging.hpp"

namespace corps::detail {

namespace {

// librdkafka's client figures worth a graph (its STATISTICS.md), each
// under a name that follows Prometheus's rules: its totals, which only
// grow, are counters named ..._total; sizes are in bytes and say so.
struct ClientFigure {
  std::string_view statistic;  // librdkafka's name
  std::string_view metric;
  bool total;
  std::string_view help;
};
constexpr ClientFigure client_figures[] = {
    {"replyq", "corps_kafka_reply_queue_ops", false,
     "Operations waiting in librdkafka's reply queue to be served by a poll (replyq)"},
    {"msg_cnt", "corps_kafka_producer_queue_messages", false,
     "Messages in the producer's queues, not yet acknowledged (msg_cnt)"},
    {"msg_size", "corps_kafka_producer_queue_bytes", false,
     "Bytes of the messages in the producer's queues (msg_size)"},
    {"tx", "corps_kafka_requests_sent_total", true, "Requests sent to brokers (tx)"},
    {"tx_bytes", "corps_kafka_sent_bytes_total", true, "Bytes sent to brokers (tx_bytes)"},
    {"rx", "corps_kafka_responses_received_total", true, "Responses received from brokers (rx)"},
    {"rx_bytes", "corps_kafka_received_bytes_total", true,
     "Bytes received from brokers (rx_bytes)"},
    {"txmsgs", "corps_kafka_messages_sent_total", true, "Messages sent to brokers (txmsgs)"},
    {"txmsg_bytes", "corps_kafka_messages_sent_bytes_total", true,
     "Bytes of the messages sent to brokers (txmsg_bytes)"},
    {"rxmsgs", "corps_kafka_messages_received_total", true,
     "Messages fetched from brokers (rxmsgs)"},
    {"rxmsg_bytes", "corps_kafka_messages_received_bytes_total", true,
     "Bytes of the messages fetched from brokers (rxmsg_bytes)"},
};

}  // namespace

ClientMetrics::ClientMetrics(std::shared_ptr<Metrics> metrics, std::string client)
    : metrics_(std::move(metrics)), client_(std::move(client)) {}

MetricLabels ClientMetrics::labels(std::string_view channel) const {
  return {{"client", client_}, {"channel", std::string(channel)}};
}

MetricLabels ClientMetrics::labels(std::string_view channel, std::string_view name,
                                   std::string value) const {
  auto out = labels(channel);
  out.emplace_back(std::string(name), std::move(value));
  return out;
}

Counter& ClientMetrics::PartitionCounters::at(ClientMetrics& owner, std::string_view name,
                                              std::string_view help, std::string_view channel,
                                              std::int32_t partition) {
  const auto index = static_cast<std::size_t>(partition < 0 ? 0 : partition);
  if (index >= by_partition_.size()) by_partition_.resize(index + 1, nullptr);
  Counter*& counter = by_partition_[index];
  if (counter == nullptr) {
    counter = &owner.metrics_->counter(
        name, help, owner.labels(channel, "partition", std::to_string(partition)));
  }
  return *counter;
}

void ClientMetrics::kafka_statistics(std::string_view json) {
  const auto document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    logger()->warn("librdkafka statistics that are not JSON were ignored");
    return;
  }
  // librdkafka's own name for the client ("id#consumer-3") tells apart
  // clients of one process that share a corps label.
  const MetricLabels client{{"client", client_}, {"kafka_client", document.value("name", "")}};
  for (const auto& figure : client_figures) {
    const auto value = document.find(figure.statistic);
    if (value == document.end() || !value->is_number()) continue;
    if (!figure.total) {
      metrics_->gauge(figure.metric, figure.help, client).set(value->get<double>());
      continue;
    }
    // A total of one librdkafka client (kafka_client tells them apart): the
    // counter goes up to it.
    Counter& counter = metrics_->counter(figure.metric, figure.help, client);
    const auto total = value->get<double>();
    if (total > static_cast<double>(counter.value())) {
      counter.add(static_cast<std::uint64_t>(total) - counter.value());
    }
  }
  const bool producer = document.value("type", "") == "producer";
  const auto topics = document.find("topics");
  if (topics == document.end() || !topics->is_object()) return;
  for (const auto& [topic, about] : topics->items()) {
    const auto partitions = about.find("partitions");
    if (partitions == about.end() || !partitions->is_object()) continue;
    for (const auto& [id, partition] : partitions->items()) {
      if (id == "-1" || !partition.is_object()) continue;  // librdkafka's unassigned queue
      const double queued =
          producer ? partition.value("msgq_cnt", 0.0) + partition.value("xmit_msgq_cnt", 0.0)
                   : partition.value("fetchq_cnt", 0.0);
      metrics_
          ->gauge("corps_partition_queue_records",
                  "Records in librdkafka's queue of a partition: waiting to be sent (a "
                  "producer's) or fetched and not yet handed out (a consumer's)",
                  labels(topic, "partition", id))
          .set(queued);
    }
  }
}

ProducerMetrics::Channel& ProducerMetrics::channel(std::string_view name) {
  const auto found = channels_.find(name);
  if (found != channels_.end()) return found->second;
  Channel& made = channels_[std::string(name)];
  made.sent = &metrics_->counter("corps_records_sent_total",
                                 "Records encoded and handed to the Kafka client", labels(name));
  made.encode = &metrics_->histogram("corps_encode_seconds",
                                     "Time to stamp, serialize and compress one record, seconds",
                                     labels(name));
  return made;
}

void ProducerMetrics::sent(std::string_view name, double encode_seconds) {
  std::lock_guard lock(mutex_);
  Channel& series = channel(name);
  series.sent->add();
  series.encode->observe(encode_seconds);
}

void ProducerMetrics::delivered(std::string_view name, std::int32_t partition) {
  std::lock_guard lock(mutex_);
  channel(name)
      .delivered
      .at(*this, "corps_records_delivered_total", "Records the broker acknowledged", name,
          partition)
      .add();
}

void ProducerMetrics::failed(std::string_view name, Errc code) {
  std::lock_guard lock(mutex_);
  Counter*& counter = channel(name).failed[code];
  if (counter == nullptr) {
    counter = &metrics_->counter("corps_records_failed_total",
                                 "Records whose report is a failure, by error code",
                                 labels(name, "code", std::string(to_string(code))));
  }
  counter->add();
}

ConsumerMetrics::Channel& ConsumerMetrics::channel(std::string_view name) {
  const auto found = channels_.find(name);
  if (found != channels_.end()) return found->second;
  Channel& made = channels_[std::string(name)];
  made.decode =
      &metrics_->histogram("corps_decode_seconds",
                           "Time to decompress, parse and stamp one record, seconds", labels(name));
  made.dead_letters = &metrics_->counter(
      "corps_dead_letters_total", "Records written to the dead-letter channel", labels(name));
  made.retries =
      &metrics_->counter("corps_handler_retries_total",
                         "Handler calls after a record's first (Consumer::run)", labels(name));
  return made;
}

void ConsumerMetrics::decoded(std::string_view name, std::int32_t partition,
                              double decode_seconds) {
  std::lock_guard lock(mutex_);
  Channel& series = channel(name);
  series.consumed
      .at(*this, "corps_records_consumed_total", "Records fetched and handed out, decoded or not",
          name, partition)
      .add();
  series.decode->observe(decode_seconds);
}

void ConsumerMetrics::decode_failed(std::string_view name, Stage stage) {
  std::lock_guard lock(mutex_);
  Counter*& counter = channel(name).failed[stage];
  if (counter == nullptr) {
    counter = &metrics_->counter("corps_decode_failures_total",
                                 "Records that did not decode, by the stage that failed",
                                 labels(name, "stage", std::string(to_string(stage))));
  }
  counter->add();
}

void ConsumerMetrics::dead_lettered(std::string_view name) {
  std::lock_guard lock(mutex_);
  channel(name).dead_letters->add();
}

void ConsumerMetrics::retried(std::string_view name, int times) {
  if (times <= 0) return;
  std::lock_guard lock(mutex_);
  channel(name).retries->add(static_cast<std::uint64_t>(times));
}

void ConsumerMetrics::lag(const std::vector<PartitionLag>& partitions) {
  std::lock_guard lock(mutex_);
  std::set<std::pair<std::string, std::int32_t>> reported;
  for (const auto& partition : partitions) {
    if (partition.lag < 0) continue;
    const TopicPartition& where = partition.partition;
    metrics_
        ->gauge("corps_consumer_lag",
                "Records written to a partition and not yet read by this consumer",
                labels(where.topic, "partition", std::to_string(where.partition)))
        .set(static_cast<double>(partition.lag));
    reported.emplace(where.topic, where.partition);
  }
  // Dropped once, when the partition leaves: a member of the same group
  // in this process that reports it now (the same series) sets it again at
  // its next collection.
  for (const auto& [topic, partition] : lag_reported_) {
    if (reported.count({topic, partition}) == 0) {
      metrics_->remove("corps_consumer_lag", labels(topic, "partition", std::to_string(partition)));
    }
  }
  lag_reported_ = std::move(reported);
}

void ConsumerMetrics::forget_lag() {
  lag({});
}

}  // namespace corps::detail
