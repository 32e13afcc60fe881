#include "detail/kafka_client.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "corps/logging.hpp"

namespace corps::detail {

namespace {

// librdkafka logs with syslog levels (0 emerg .. 7 debug).
spdlog::level::level_enum to_spdlog(int syslog_level) {
  if (syslog_level <= 2) return spdlog::level::critical;
  if (syslog_level == 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  if (syslog_level <= 6) return spdlog::level::info;
  return spdlog::level::debug;
}

// The last connection failure librdkafka logged for each client, for as
// long as the client lives: the root cause, such as a name that does not
// resolve, which the error code alone ("Local: Broker transport failure")
// does not say. Kept from the client's first attempt, which may fail before
// anyone waits for it.
std::mutex failures_mutex;
std::map<const rd_kafka_t*, std::string>& connection_failures() {
  static std::map<const rd_kafka_t*, std::string> failures;
  return failures;
}

void note_connection_failure(const rd_kafka_t* client, std::string_view facility,
                             const char* text) {
  if (client == nullptr || facility != "FAIL") return;  // not "ERROR: 1/1 brokers are down"
  std::lock_guard lock(failures_mutex);
  connection_failures()[client] = text;
}

std::string last_connection_failure(const rd_kafka_t* client) {
  std::lock_guard lock(failures_mutex);
  const auto found = connection_failures().find(client);
  return found == connection_failures().end() ? std::string() : found->second;
}

void route_log(const rd_kafka_t* client, int level, const char* facility, const char* text) {
  // Called on librdkafka's threads: nothing may escape into C.
  try {
    note_connection_failure(client, facility, text);
    corps::logger()->log(to_spdlog(level), "librdkafka {} [{}]: {}",
                         client != nullptr ? rd_kafka_name(client) : "-", facility, text);
  } catch (...) {
  }
}

}  // namespace

void KafkaDeleter::operator()(rd_kafka_t* client) const noexcept {
  destroy_client(client, 0);
}

void destroy_client(rd_kafka_t* client, int flags) noexcept {
  rd_kafka_destroy_flags(client, flags);
  // A later client may get the same address: it must not inherit a cause.
  std::lock_guard lock(failures_mutex);
  connection_failures().erase(client);
}

ConfPtr make_conf(const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      throw Exception(
          Error(Errc::invalid_argument, Stage::config,
                "librdkafka property '" + name + "' = '" + value + "' refused: " + errstr));
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), route_log);
  return conf;
}

KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf) {
  char errstr[512];
  rd_kafka_t* client = rd_kafka_new(type, conf.get(), errstr, sizeof errstr);
  if (client == nullptr) {
    // rd_kafka_new frees the configuration only on success.
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          std::string("cannot create the Kafka ") +
                              (type == RD_KAFKA_PRODUCER ? "producer" : "consumer") + ": " +
                              errstr));
  }
  (void)conf.release();
  return KafkaPtr(client);
}

rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     std::int32_t partition, std::int64_t& low,
                                     std::int64_t& high, std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  const auto left = [&] {
    return std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count());
  };
  // One ListOffsets: the earliest (-2) or the latest (-1) offset.
  const auto ask = [&](std::int64_t which, std::int64_t& answer) {
    for (;;) {
      // A second an attempt: a leader that went down does not answer, and
      // a new one is found only with new metadata.
      const int attempt = static_cast<int>(std::min<std::int64_t>(left(), 1000));
      PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = which;
      auto err = rd_kafka_offsets_for_times(client, list.get(), attempt);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        answer = list->elems[0].offset;
        return err;
      }
      const bool leader_may_come = err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                                   err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                                   err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                                   err == RD_KAFKA_RESP_ERR__TRANSPORT;
      // librdkafka answers "unknown partition" from its metadata cache, which
      // a broker that has just come back can leave without the partition
      // for a moment: the partition is unknown only if fresh metadata says so.
      const bool may_be_stale = err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
      if ((!leader_may_come && !may_be_stale) || left() == 0) return err;
      std::unique_ptr<rd_kafka_topic_t, decltype(&rd_kafka_topic_destroy)> handle(
          rd_kafka_topic_new(client, topic.c_str(), nullptr), &rd_kafka_topic_destroy);
      const rd_kafka_metadata_t* metadata = nullptr;
      bool partition_exists = false;
      if (rd_kafka_metadata(client, 0, handle.get(), &metadata,
                            static_cast<int>(std::min<std::int64_t>(left(), 1000))) ==
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        partition_exists = metadata->topic_cnt == 1 &&
                           metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                           partition < metadata->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(metadata);
      }
      if (may_be_stale && !partition_exists) return err;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<std::int64_t>(left(), 100)));
    }
  };
  if (const auto err = ask(RD_KAFKA_OFFSET_BEGINNING, low); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return err;
  }
  return ask(RD_KAFKA_OFFSET_END, high);
}

void wait_for_brokers(rd_kafka_t* client, std::string_view brokers,
                      std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return;
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  auto backoff = std::chrono::milliseconds(100);
  int attempts = 0;
  rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (;;) {
    ++attempts;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    const auto wait =
        std::clamp(left, std::chrono::milliseconds(1), std::chrono::milliseconds(2'000));
    const rd_kafka_metadata_t* raw = nullptr;
    last = rd_kafka_metadata(client, 0, nullptr, &raw, static_cast<int>(wait.count()));
    if (last == RD_KAFKA_RESP_ERR_NO_ERROR) {
      MetadataPtr metadata(raw);
      if (metadata->broker_cnt > 0) return;
    }
    if (clock::now() + backoff >= deadline) break;
    logger()->warn("no answer from brokers {} (attempt {}: {}); retrying in {} ms", brokers,
                   attempts, rd_kafka_err2str(last), backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2'000));
  }
  const std::string cause = last_connection_failure(client);
  throw Exception(Error(Errc::broker_unreachable, Stage::connect,
                        "no broker answered at '" + std::string(brokers) + "' within " +
                            std::to_string(timeout.count()) + " ms (" + std::to_string(attempts) +
                            " attempts; last: " + rd_kafka_err2str(last) + ")" +
                            (cause.empty() ? "" : ": " + cause),
                        std::nullopt, kafka_error_of(last)));
}

std::size_t size_property(const Properties& properties, const std::string& name) {
  const auto it = properties.find(name);
  if (it == properties.end()) return 0;
  std::size_t value = 0;
  const auto* end = it->second.data() + it->second.size();
  const auto [stop, error] = std::from_chars(it->second.data(), end, value);
  if (error != std::errc{} || stop != end) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "property " + name + " = '" + it->second + "' is not a whole number"));
  }
  return value;
}

Error kafka_error(rd_kafka_resp_err_t err, Stage stage, std::string context,
                  std::optional<RecordLocation> location) {
  Errc code = Errc::kafka_error;
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: code = Errc::timed_out; break;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL: code = Errc::queue_full; break;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE: code = Errc::too_large; break;
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__TRANSPORT: code = Errc::broker_unreachable; break;
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: code = Errc::closed; break;
    default:
      // librdkafka has hundreds of codes; the rest keep their number in
      // Error::kafka_error() and their text in the message.
      break;
  }
  context += ": ";
  context += rd_kafka_err2str(err);
  Error error(code, stage, std::move(context), std::move(location), kafka_error_of(err));
  error.set_severity(kafka_severity(err));
  return error;
}

Severity kafka_severity(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    // The client is unusable. (A producer also checks rd_kafka_fatal_error:
    // librdkafka decides which broker errors break its idempotent session.)
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__FENCED: return Severity::fatal;
    // Gone by themselves once the cluster settles: time, reconnects,
    // leader elections, coordinator moves, rebalances.
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
    case RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH: return Severity::retriable;
    default: return Severity::permanent;
  }
}

void check_brokers(std::string_view brokers, std::string_view client_kind) {
  if (brokers.empty()) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          std::string(client_kind) +
                              " options name no brokers; set brokers (e.g. from "
                              "corps::Brokers::resolve, --brokers or CORPS_BROKERS)"));
  }
}

Properties producer_properties_of(const Properties& consumer_properties) {
  // librdkafka 2.0's consumer-only properties (CONFIGURATION.md, "C"), and
  // the two a producer beside a consumer must set for itself.
  static const std::set<std::string, std::less<>> not_for_producers{
      "group.id", "group.instance.id", "partition.assignment.strategy", "session.timeout.ms",
      "heartbeat.interval.ms", "group.protocol.type", "coordinator.query.interval.ms",
      "max.poll.interval.ms", "enable.auto.commit", "auto.commit.enable", "auto.commit.interval.ms",
      "enable.auto.offset.store", "queued.min.messages", "queued.max.messages.kbytes",
      "fetch.wait.max.ms", "fetch.message.max.bytes", "max.partition.fetch.bytes",
      "fetch.max.bytes", "fetch.min.bytes", "fetch.error.backoff.ms", "offset.store.method",
      "offset.store.path", "offset.store.sync.interval.ms", "isolation.level", "consume_cb",
      "rebalance_cb", "offset_commit_cb", "enable.partition.eof", "check.crcs", "auto.offset.reset",
      "consume.callback.max.messages",
      // set by the producer itself
      "client.id", "message.max.bytes"};
  Properties out;
  for (const auto& [name, value] : consumer_properties) {
    if (!not_for_producers.contains(name)) out.emplace(name, value);
  }
  return out;
}

}  // namespace corps::detail
