// detail::KafkaConsumer (see its header). Longer than most files here
// because every call corps makes on a librdkafka consumer handle is in it,
// from configuration to close.
#include "detail/kafka_consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "corps/config.hpp"
#include "corps/logging.hpp"
#include "detail/client_metrics.hpp"

namespace corps::detail {

namespace {

std::string describe(const rd_kafka_topic_partition_list_t* partitions) {
  if (partitions == nullptr || partitions->cnt == 0) return "none";
  std::string out;
  for (int i = 0; i < partitions->cnt; ++i) {
    if (i != 0) out += ", ";
    out += partitions->elems[i].topic;
    if (partitions->elems[i].partition == RD_KAFKA_PARTITION_UA) continue;
    out += '[';
    out += std::to_string(partitions->elems[i].partition);
    out += ']';
  }
  return out;
}

std::vector<TopicPartition> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < (list != nullptr ? list->cnt : 0); ++i) {
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  return out;
}

void log_rebalance_error(rd_kafka_error_t* error) {
  ErrorPtr owned(error);
  if (owned)
    logger()->error("incremental rebalance failed: {}", rd_kafka_error_string(owned.get()));
}

// ConsumerOptions::fetch_wait, or its default where the consumer is.
std::chrono::milliseconds fetch_wait(const ConsumerOptions& options, bool on_embedded_broker) {
  if (options.fetch_wait) return *options.fetch_wait;
  return std::chrono::milliseconds(on_embedded_broker ? 10 : 500);
}

// ConsumerOptions::session_timeout, or its default where the consumer is.
std::chrono::milliseconds session_timeout(const ConsumerOptions& options, bool on_embedded_broker) {
  if (options.session_timeout) return *options.session_timeout;
  return on_embedded_broker ? std::chrono::seconds(6) : std::chrono::seconds(45);
}

}  // namespace

Properties consumer_properties(const ConsumerOptions& options) {
  const bool grouped = !options.group_id.empty();
  const bool after_handled = grouped && options.commit_mode == CommitMode::after_handled;
  const bool automatic = grouped && options.commit_mode == CommitMode::automatic;
  // The brokers it bootstraps from, a property overriding the option;
  // is_embedded_broker reads the address file: asked once.
  const auto bootstrap = options.properties.find("bootstrap.servers");
  const bool embedded = is_embedded_broker(bootstrap != options.properties.end() ? bootstrap->second
                                                                                 : options.brokers);
  Properties props{
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.auto.commit", after_handled || automatic ? "true" : "false"},
      // corps stores an offset only once its record was handled, or (when
      // automatic) handed out: librdkafka would store it on fetching,
      // which counts what was decoded ahead and never handed out.
      {"enable.auto.offset.store", "false"},
      {"auto.commit.interval.ms", std::to_string(options.auto_commit_interval.count())},
      {"auto.offset.reset", options.start_from == StartFrom::earliest ? "earliest" : "latest"},
      // Where each partition ends, for caught_up().
      {"enable.partition.eof", "true"},
      {"fetch.max.bytes", std::to_string(options.max_record_bytes)},
      // librdkafka wants room for a response's framing above fetch.max.bytes.
      {"receive.message.max.bytes", std::to_string(options.max_record_bytes + 4096)},
      {"message.max.bytes",
       std::to_string(std::min<std::size_t>(options.max_record_bytes, 1'000'000))},
      {"queued.max.messages.kbytes",
       std::to_string(std::max<std::size_t>(1, options.max_queued_bytes / 1024))},
      // Bound the prefetch by bytes, not by librdkafka's 100,000-record
      // default: a consumer that decodes more slowly than it fetches small
      // records otherwise hits the count and stops fetching for up to a
      // second at a time (measured: +50% small-record throughput).
      {"queued.min.messages", "10000000"},
      {"session.timeout.ms", std::to_string(session_timeout(options, embedded).count())},
      {"fetch.wait.max.ms", std::to_string(fetch_wait(options, embedded).count())},
      {"reconnect.backoff.ms", "100"},
      {"reconnect.backoff.max.ms", "10000"},
  };
  // librdkafka's statistics, served by poll() on the application's thread.
  if (options.metrics) {
    props["statistics.interval.ms"] = std::to_string(ClientMetrics::statistics_interval_ms);
  }
  if (!options.session_timeout && embedded) {
    // The embedded broker holds a rebalance for the session timeout:
    // heartbeats must come often enough for a 6 s session.
    props["heartbeat.interval.ms"] = "1000";
  }
  // librdkafka's assign() needs a group id even when no group is joined: a
  // private one that never commits, so no group state is ever created.
  props["group.id"] = grouped ? options.group_id : "corps-no-group-" + std::to_string(::getpid());
  for (const auto& [name, value] : options.properties) props[name] = value;
  return props;
}

KafkaConsumer::KafkaConsumer(const ConsumerOptions& options, RebalanceListener& listener)
    : options_(options), listener_(listener) {
  auto conf = make_conf(consumer_properties(options_));
  // librdkafka refuses a mix of eager and cooperative assignors, so one
  // cooperative name makes the whole list cooperative.
  char strategy[512] = {};
  std::size_t size = sizeof strategy;
  if (rd_kafka_conf_get(conf.get(), "partition.assignment.strategy", strategy, &size) ==
      RD_KAFKA_CONF_OK) {
    cooperative_ = std::string_view(strategy).find("cooperative") != std::string_view::npos;
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaConsumer::on_rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaConsumer::on_error);
  if (options_.metrics) rd_kafka_conf_set_stats_cb(conf.get(), &KafkaConsumer::on_statistics);
  client_ = make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(client_.get());
  wait_for_brokers(client_.get(), options_.brokers, options_.connect_timeout);
}

KafkaConsumer::~KafkaConsumer() {
  destroy_client(client_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

void KafkaConsumer::subscribe() {
  PartitionListPtr topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(options_.channels.size())));
  for (const auto& channel : options_.channels) {
    rd_kafka_topic_partition_list_add(topics.get(), channel.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const auto err = rd_kafka_subscribe(client_.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Exception(
        kafka_error(err, Stage::subscribe, "cannot subscribe to " + describe(topics.get())));
  }
  logger()->info("consumer '{}' of group '{}' subscribed to {}", options_.client_id,
                 options_.group_id, describe(topics.get()));
}

std::vector<std::pair<TopicPartition, std::int64_t>> KafkaConsumer::assign_all() {
  std::vector<std::pair<TopicPartition, std::int64_t>> placed;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(8));
  const int timeout =
      static_cast<int>(std::max<std::int64_t>(options_.connect_timeout.count(), 5000));
  for (const auto& channel : options_.channels) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(client_.get(), channel.c_str(), nullptr);
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(client_.get(), 0, handle, &raw, timeout);
    rd_kafka_topic_destroy(handle);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(
          kafka_error(err, Stage::subscribe, "cannot read the partitions of '" + channel + "'"));
    }
    const MetadataPtr metadata(raw);
    if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(kafka_error(metadata->topic_cnt == 1
                                      ? metadata->topics[0].err
                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                  Stage::subscribe, "cannot read channel '" + channel + "'"));
    }
    for (int p = 0; p < metadata->topics[0].partition_cnt; ++p) {
      std::int64_t start = options_.start_from == StartFrom::earliest ? RD_KAFKA_OFFSET_BEGINNING
                                                                      : RD_KAFKA_OFFSET_END;
      if (options_.start_offset) {
        start = *options_.start_offset >= 0 ? *options_.start_offset
                                            : RD_KAFKA_OFFSET_TAIL(-*options_.start_offset);
      }
      const std::int32_t partition = metadata->topics[0].partitions[p].id;
      rd_kafka_topic_partition_list_add(list.get(), channel.c_str(), partition)->offset = start;
      if (start >= 0) placed.push_back({{channel, partition}, start});
    }
  }
  const auto err = rd_kafka_assign(client_.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Exception(kafka_error(err, Stage::subscribe, "cannot assign " + describe(list.get())));
  }
  logger()->info("consumer '{}' (no group) reading {}", options_.client_id, describe(list.get()));
  return placed;
}

MessagePtr KafkaConsumer::poll(std::chrono::milliseconds timeout) {
  return MessagePtr(rd_kafka_consumer_poll(client_.get(), static_cast<int>(timeout.count())));
}

std::optional<Error> KafkaConsumer::take_stuck() {
  std::lock_guard lock(stuck_mutex_);
  auto taken = std::move(stuck_);
  stuck_.reset();
  return taken;
}

std::optional<std::string> KafkaConsumer::seek(const std::string& topic, std::int32_t partition,
                                               std::int64_t offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  ErrorPtr error(rd_kafka_seek_partitions(client_.get(), list.get(), 5000));
  if (error) return rd_kafka_error_string(error.get());
  if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) return rd_kafka_err2str(list->elems[0].err);
  return std::nullopt;
}

Status KafkaConsumer::store(const std::string& topic, std::int32_t partition,
                            std::int64_t next_offset) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = next_offset;
  const auto err = rd_kafka_offsets_store(client_.get(), list.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return {};
  }
  const auto reason = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : list->elems[0].err;
  return kafka_error(
      reason, Stage::commit,
      "cannot mark the record before offset " + std::to_string(next_offset) + " handled",
      RecordLocation{topic, partition, next_offset - 1});
}

Status KafkaConsumer::commit_stored_within(std::chrono::milliseconds timeout) {
  if (!grouped()) return {};
  return commit_within(nullptr, timeout, std::nullopt);
}

// Commits `offsets` (null: what is stored) and waits up to `timeout` for
// the coordinator's answer: rd_kafka_commit waits as long as librdkafka
// keeps looking for a coordinator, which a broker gone makes long.
Status KafkaConsumer::commit_within(const rd_kafka_topic_partition_list_t* offsets,
                                    std::chrono::milliseconds timeout,
                                    const std::optional<RecordLocation>& record) {
  const std::string what = "commit of group '" + options_.group_id + "'";
  QueuePtr queue(rd_kafka_queue_new(client_.get()));
  const auto err = rd_kafka_commit_queue(client_.get(), offsets, queue.get(), nullptr, nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return err == RD_KAFKA_RESP_ERR__NO_OFFSET
               ? Status{}
               : Status(kafka_error(err, Stage::commit, what + " failed", record));
  }
  EventPtr result(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count())));
  if (!result) {
    return Error(Errc::timed_out, Stage::commit,
                 "no answer to the " + what + " within " + std::to_string(timeout.count()) +
                     " ms (the coordinator is away?); handled records may be delivered again",
                 record)
        .set_severity(Severity::retriable);
  }
  auto result_err = rd_kafka_event_error(result.get());
  if (result_err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A partition's own failure, the whole commit having been answered.
    if (const auto* committed = rd_kafka_event_topic_partition_list(result.get())) {
      for (int i = 0; i < committed->cnt; ++i) {
        if (committed->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          result_err = committed->elems[i].err;
          break;
        }
      }
    }
  }
  if (result_err == RD_KAFKA_RESP_ERR_NO_ERROR || result_err == RD_KAFKA_RESP_ERR__NO_OFFSET)
    return {};
  return kafka_error(result_err, Stage::commit, what + " failed", record);
}

Status KafkaConsumer::commit(const std::optional<RecordLocation>& record,
                             std::chrono::milliseconds timeout) {
  if (!record) return commit_within(nullptr, timeout, std::nullopt);
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), record->topic.c_str(), record->partition)->offset =
      record->offset + 1;
  return commit_within(list.get(), timeout, record);
}

bool KafkaConsumer::leave_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A rebalance event already waiting (a revoke the application never
  // polled for: the group dropped it while it was idle, say) is served
  // first, while the group still waits for it. Served once the close has
  // begun, it reaches a group librdkafka 2.0 may have terminated: its
  // unassign then waits forever, or its commit aborts the process
  // (ConsumerLifecycle.AMemberTheGroupDroppedWhileItWasIdleStillCloses). The
  // messages fetched before it go unread (only those already fetched: a
  // busy channel does not keep the close here): none was handed out, so
  // none is committed. Asking what is assigned is a request to the group
  // too, so it is asked before the close as well.
  if (grouped()) {
    const QueuePtr fetched(rd_kafka_queue_get_consumer(client_.get()));
    for (auto waiting = rd_kafka_queue_length(fetched.get());
         waiting > 0 && std::chrono::steady_clock::now() < deadline &&
         poll(std::chrono::milliseconds(0)) != nullptr;
         --waiting) {
    }
  }
  bool revoked = !grouped() || nothing_assigned();
  QueuePtr queue(rd_kafka_queue_new(client_.get()));
  ErrorPtr error(rd_kafka_consumer_close_queue(client_.get(), queue.get()));
  if (error) {
    logger()->warn("closing consumer '{}': {}", options_.client_id,
                   rd_kafka_error_string(error.get()));
    return false;
  }
  // A group's close revokes its assignment through this queue, and
  // librdkafka's destroy waits for that revoke to be handled: once the close
  // has begun, the revoke is served even past the deadline (it is a local
  // event; the revoke's commit then gets no time at all).
  constexpr std::chrono::seconds revoke_grace{2};
  while (rd_kafka_consumer_closed(client_.get()) == 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline && (revoked || now >= deadline + revoke_grace)) break;
    EventPtr event(rd_kafka_queue_poll(queue.get(), 100));
    // The close revokes the assignment: the same handling as a rebalance.
    if (event && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_REBALANCE) {
      on_rebalance(client_.get(), rd_kafka_event_error(event.get()),
                   rd_kafka_event_topic_partition_list(event.get()), this);
      revoked =
          revoked || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    }
  }
  return rd_kafka_consumer_closed(client_.get()) != 0;
}

bool KafkaConsumer::nothing_assigned() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(client_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  const PartitionListPtr list(raw);
  return list->cnt == 0;
}

void KafkaConsumer::on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  try {
    const bool cooperative = self->cooperative_;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      logger()->info("consumer '{}' of group '{}' assigned: {}", self->options_.client_id,
                     self->options_.group_id, describe(partitions));
      self->listener_.assigned(partitions_of(partitions));
      if (cooperative) {
        log_rebalance_error(rd_kafka_incremental_assign(client, partitions));
      } else {
        rd_kafka_assign(client, partitions);
      }
      return;
    }
    logger()->info("consumer '{}' of group '{}' revoked: {}{}", self->options_.client_id,
                   self->options_.group_id, describe(partitions),
                   err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS
                       ? ""
                       : std::string(" (") + rd_kafka_err2str(err) + ")");
    self->listener_.revoking(partitions_of(partitions));
    if (cooperative) {
      log_rebalance_error(rd_kafka_incremental_unassign(client, partitions));
    } else {
      rd_kafka_assign(client, nullptr);
    }
  } catch (const std::exception& e) {
    logger()->error("rebalance handling failed: {}", e.what());
  } catch (...) {
    logger()->error("rebalance handling failed");
  }
}

int KafkaConsumer::on_statistics(rd_kafka_t* /*client*/, char* json, std::size_t size,
                                 void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  try {
    if (self->statistics_) self->statistics_(std::string_view(json, size));
  } catch (const std::exception& e) {
    logger()->warn("librdkafka statistics were not recorded: {}", e.what());
  }
  return 0;  // librdkafka frees `json`
}

void KafkaConsumer::on_error(rd_kafka_t* client, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  try {
    const auto code = static_cast<rd_kafka_resp_err_t>(err);
    if (code == RD_KAFKA_RESP_ERR__BAD_MSG &&
        std::string_view(reason).find("receive.message.max.bytes") != std::string_view::npos) {
      // librdkafka reconnects and fetches the same too-large response
      // forever: tell the application (next poll) instead.
      std::lock_guard lock(self->stuck_mutex_);
      self->stuck_ = Error(Errc::too_large, Stage::consume,
                           std::string(reason) + "; the consumer cannot read past a record " +
                               "larger than ConsumerOptions::max_record_bytes (" +
                               std::to_string(self->options_.max_record_bytes) +
                               " B): raise it to at least the producers' max_record_bytes",
                           std::nullopt, kafka_error_of(code));
      return;
    }
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
      char detail[512];
      rd_kafka_fatal_error(client, detail, sizeof detail);
      logger()->critical("consumer fatal error: {}", detail);
    } else {
      logger()->warn("consumer: {} ({}); reconnecting with backoff", reason,
                     rd_kafka_err2name(code));
    }
  } catch (...) {
  }
}

std::vector<TopicPartition> KafkaConsumer::assignment() const {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(client_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return {};
  const PartitionListPtr list(raw);
  return partitions_of(list.get());
}

std::vector<PartitionLag> KafkaConsumer::lag() const {
  std::vector<PartitionLag> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(client_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  const PartitionListPtr list(raw);
  rd_kafka_position(client_.get(), list.get());
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    PartitionLag lag{{element.topic, element.partition}, element.offset, -1, -1};
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(client_.get(), element.topic, element.partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      lag.high_watermark = high;
      if (lag.position >= 0) lag.lag = std::max<std::int64_t>(0, high - lag.position);
    }
    out.push_back(std::move(lag));
  }
  return out;
}

Result<std::pair<std::int64_t, std::int64_t>> KafkaConsumer::watermarks(
    const TopicPartition& partition, std::chrono::milliseconds timeout) const {
  std::int64_t low = -1;
  std::int64_t high = -1;
  const auto err =
      query_watermarks(client_.get(), partition.topic, partition.partition, low, high, timeout);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_error(err, Stage::consume, "cannot read the watermarks",
                       RecordLocation{partition.topic, partition.partition, -1});
  }
  return std::make_pair(low, high);
}

Result<std::int64_t> KafkaConsumer::committed(const TopicPartition& partition,
                                              std::chrono::milliseconds timeout) const {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  auto err = rd_kafka_committed(client_.get(), list.get(), static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return kafka_error(err, Stage::commit, "cannot read the committed offset",
                       RecordLocation{partition.topic, partition.partition, -1});
  }
  const auto offset = list->elems[0].offset;
  return offset < 0 ? std::int64_t{-1} : offset;
}

namespace {

// The watermarks librdkafka learned from its last fetch of the partition
// (each below 0 where not known), or nullopt.
std::optional<std::pair<std::int64_t, std::int64_t>> known_watermarks(rd_kafka_t* client,
                                                                      std::string_view topic,
                                                                      std::int32_t partition) {
  std::int64_t low = -1;
  std::int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(client, std::string(topic).c_str(), partition, &low, &high) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::pair{low, high};
}

}  // namespace

std::optional<std::int64_t> KafkaConsumer::known_log_start(std::string_view topic,
                                                           std::int32_t partition) {
  const auto known = known_watermarks(client_.get(), topic, partition);
  if (!known) return std::nullopt;
  return known->first;
}

std::optional<std::int64_t> KafkaConsumer::known_log_end(std::string_view topic,
                                                         std::int32_t partition) {
  const auto known = known_watermarks(client_.get(), topic, partition);
  if (!known || known->second < 0) return std::nullopt;
  return known->second;
}

std::int64_t KafkaConsumer::log_start(std::string_view topic, std::int32_t partition) {
  if (const auto known = known_log_start(topic, partition); known && *known >= 0) return *known;
  std::int64_t low = -1;
  std::int64_t high = -1;
  if (query_watermarks(client_.get(), std::string(topic), partition, low, high,
                       std::chrono::milliseconds(5000)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return low;
}

std::optional<std::vector<std::int64_t>> KafkaConsumer::committed(
    const std::vector<std::pair<std::string, std::int32_t>>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& [topic, partition] : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  const auto err = rd_kafka_committed(client_.get(), list.get(), 5000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    logger()->warn("cannot read group '{}''s committed offsets: {}", options_.group_id,
                   rd_kafka_err2str(err));
    return std::nullopt;
  }
  std::vector<std::int64_t> offsets;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    offsets.push_back(
        element.err == RD_KAFKA_RESP_ERR_NO_ERROR && element.offset >= 0 ? element.offset : -1);
  }
  return offsets;
}

}  // namespace corps::detail
