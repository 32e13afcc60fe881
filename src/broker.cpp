#include "corps/broker.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "detail/embedded_topics.hpp"
#include "detail/kafka_client.hpp"

namespace corps {

namespace {

// The bootstrap addresses of the embedded brokers this process runs.
// The embedded brokers this process runs, by address: Admin reaches them
// here for what their mock clusters answer no request for.
std::mutex running_mutex;
std::map<std::string, EmbeddedBroker*, std::less<>>& running() {
  static std::map<std::string, EmbeddedBroker*, std::less<>> brokers;
  return brokers;
}

}  // namespace

bool detail::runs_embedded_broker(std::string_view bootstrap) {
  std::lock_guard lock(running_mutex);
  return running().find(bootstrap) != running().end();
}

bool detail::create_topic_in_embedded_broker(std::string_view bootstrap, TopicSpec topic) {
  // Held while creating: the broker leaves the map, under this lock, before
  // it is destroyed.
  std::lock_guard lock(running_mutex);
  const auto found = running().find(bootstrap);
  if (found == running().end()) return false;
  if (topic.replication_factor <= 0) {
    topic.replication_factor = std::min(found->second->broker_count(), 3);
  }
  found->second->create_topic(topic);
  return true;
}

struct EmbeddedBroker::Impl {
  // Declared before the cluster so it is destroyed after it: the cluster's
  // bookkeeping lives on this handle.
  detail::KafkaPtr handle;
  detail::MockClusterPtr cluster;
  std::string bootstrap;
  int broker_count = 0;

  void check(rd_kafka_resp_err_t err, const std::string& what) const {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw Exception(detail::kafka_error(err, Stage::admin, what));
  }
};

EmbeddedBroker::EmbeddedBroker(EmbeddedBrokerOptions options) : impl_(std::make_unique<Impl>()) {
  if (options.broker_count < 1) {
    throw Exception(Error(
        Errc::invalid_argument, Stage::config,
        "an embedded broker needs at least 1 broker, not " + std::to_string(options.broker_count)));
  }
  // The handle only hosts the cluster; it never connects anywhere, so its
  // "no bootstrap.servers" warning is noise.
  auto conf = detail::make_conf({{"client.id", "corps-embedded-broker"}, {"log_level", "3"}});
  impl_->handle = detail::make_client(RD_KAFKA_PRODUCER, std::move(conf));
  impl_->cluster.reset(rd_kafka_mock_cluster_new(impl_->handle.get(), options.broker_count));
  if (!impl_->cluster) {
    throw Exception(Error(Errc::kafka_error, Stage::config,
                          "librdkafka could not start the embedded broker (mock cluster)"));
  }
  impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(impl_->cluster.get());
  impl_->broker_count = options.broker_count;
  for (const auto& topic : options.topics) create_topic(topic);
  std::lock_guard lock(running_mutex);
  running()[impl_->bootstrap] = this;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (!impl_) return;  // moved from
  std::lock_guard lock(running_mutex);
  running().erase(impl_->bootstrap);
}
// The map of running brokers names the object that holds the cluster.
EmbeddedBroker::EmbeddedBroker(EmbeddedBroker&& other) noexcept : impl_(std::move(other.impl_)) {
  std::lock_guard lock(running_mutex);
  if (impl_) running()[impl_->bootstrap] = this;
}

EmbeddedBroker& EmbeddedBroker::operator=(EmbeddedBroker&& other) noexcept {
  if (this == &other) return *this;
  std::lock_guard lock(running_mutex);
  if (impl_) running().erase(impl_->bootstrap);
  impl_ = std::move(other.impl_);
  if (impl_) running()[impl_->bootstrap] = this;
  return *this;
}

const std::string& EmbeddedBroker::bootstrap_servers() const noexcept {
  return impl_->bootstrap;
}

int EmbeddedBroker::broker_count() const noexcept {
  return impl_->broker_count;
}

bool valid_topic_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 249 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
  });
}

void EmbeddedBroker::create_topic(const TopicSpec& topic) {
  if (!valid_topic_name(topic.name)) {
    throw Exception(Error(Errc::invalid_argument, Stage::admin,
                          "cannot create topic '" + topic.name.substr(0, 300) +
                              "': a topic name is 1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-'",
                          std::nullopt, KafkaError::invalid_topic));
  }
  // Each partition is a few allocations of an in-memory log: a bound, so
  // one request cannot take the machine's memory.
  constexpr int most_partitions = 10'000;
  if (topic.partitions < 1 || topic.partitions > most_partitions || topic.replication_factor < 1 ||
      topic.replication_factor > impl_->broker_count) {
    throw Exception(Error(Errc::invalid_argument, Stage::admin,
                          "cannot create topic '" + topic.name + "' with " +
                              std::to_string(topic.partitions) + " partitions and replication " +
                              std::to_string(topic.replication_factor) + " on " +
                              std::to_string(impl_->broker_count) +
                              " embedded broker(s): expected 1 <= partitions <= 10,000 and "
                              "1 <= replication <= brokers"));
  }
  impl_->check(rd_kafka_mock_topic_create(impl_->cluster.get(), topic.name.c_str(),
                                          topic.partitions, topic.replication_factor),
               "cannot create topic '" + topic.name + "'");
}

void EmbeddedBroker::set_broker_down(std::int32_t broker_id) {
  impl_->check(rd_kafka_mock_broker_set_down(impl_->cluster.get(), broker_id),
               "cannot take broker " + std::to_string(broker_id) + " down");
}

void EmbeddedBroker::set_broker_up(std::int32_t broker_id) {
  impl_->check(rd_kafka_mock_broker_set_up(impl_->cluster.get(), broker_id),
               "cannot bring broker " + std::to_string(broker_id) + " up");
}

void EmbeddedBroker::set_round_trip_time(std::int32_t broker_id, std::chrono::milliseconds rtt) {
  impl_->check(
      rd_kafka_mock_broker_set_rtt(impl_->cluster.get(), broker_id, static_cast<int>(rtt.count())),
      "cannot set the round-trip time of broker " + std::to_string(broker_id));
}

void EmbeddedBroker::push_request_errors(KafkaApi api, const std::vector<KafkaError>& errors) {
  // librdkafka numbers a broker's errors as the protocol does.
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (const KafkaError error : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(impl_->cluster.get(), static_cast<std::int16_t>(api),
                                          codes.size(), codes.data());
}

void EmbeddedBroker::push_request_delays(std::int32_t broker_id, KafkaApi api,
                                         const std::vector<std::chrono::milliseconds>& delays) {
  for (const auto delay : delays) {
    impl_->check(rd_kafka_mock_broker_push_request_error_rtts(
                     impl_->cluster.get(), broker_id, static_cast<std::int16_t>(api), 1,
                     RD_KAFKA_RESP_ERR_NO_ERROR, static_cast<int>(delay.count())),
                 "cannot delay the answers of broker " + std::to_string(broker_id));
  }
}

void EmbeddedBroker::set_partition_leader(std::string_view topic, std::int32_t partition,
                                          std::int32_t broker_id) {
  const std::string name(topic);
  impl_->check(
      rd_kafka_mock_partition_set_leader(impl_->cluster.get(), name.c_str(), partition, broker_id),
      "cannot move the leader of " + name + "[" + std::to_string(partition) + "]");
}

}  // namespace corps
