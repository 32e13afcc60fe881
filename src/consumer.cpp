#include "corps/consumer.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "corps/config.hpp"
#include "corps/logging.hpp"
#include "corps/producer.hpp"
#include "corps/shutdown.hpp"
#include "detail/header_limits.hpp"
#include "detail/kafka_client.hpp"

namespace corps {

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

// A record's headers, copied only once they are known to be within
// `limits`: a record of 100,000 long headers (librdkafka's most) must not
// cost their copy before it is refused. Sets `refused` and copies nothing
// if they are not within them, or cannot be read.
Headers read_headers(const rd_kafka_message_t* message, const LoaderOptions& limits,
                     std::optional<std::string>& refused) {
  Headers headers;
  rd_kafka_headers_t* raw = nullptr;
  const auto err = rd_kafka_message_headers(message, &raw);
  if (err == RD_KAFKA_RESP_ERR__NOENT) return headers;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    refused = std::string("the record's headers cannot be read (") + rd_kafka_err2str(err) +
              "; librdkafka reads at most 100,000)";
    return headers;
  }
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  const std::size_t count = rd_kafka_header_cnt(raw);
  std::size_t bytes = 0;
  for (std::size_t i = 0;
       rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    bytes += std::strlen(name) + size;
  }
  if (auto breach = detail::header_limit_breach(count, bytes, limits)) {
    refused = *breach + "; the headers are not kept";
    return headers;
  }
  headers.reserve(count);
  for (std::size_t i = 0;
       rd_kafka_header_get_all(raw, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
    Header header{name, std::nullopt};
    if (value != nullptr) header.value.emplace(static_cast<const char*>(value), size);
    headers.push_back(std::move(header));
  }
  return headers;
}

// Errors the client recovers from by itself (reconnecting with backoff):
// worth a log line, not worth interrupting the application.
bool recovers_by_itself(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

}  // namespace

struct Consumer::Impl {
  Impl(ChannelRegistry r, ConsumerOptions o)
      : registry(std::move(r)), options(std::move(o)), loader(registry, options.loader) {}

  // Orders (topic, partition) keys, and finds one by a string_view topic:
  // no string is built to look a record's partition up.
  struct PartitionOrder {
    using is_transparent = void;
    using View = std::pair<std::string_view, std::int32_t>;
    static View view(const std::pair<std::string, std::int32_t>& key) noexcept {
      return {key.first, key.second};
    }
    static View view(const View& key) noexcept { return key; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const noexcept {
      return view(a) < view(b);
    }
  };

  struct Position {
    std::string topic;
    std::int32_t partition;
    std::int64_t next_offset;
  };

  ChannelRegistry registry;
  ConsumerOptions options;
  MessageLoader loader;
  detail::KafkaPtr client;
  std::atomic<bool> stop_requested{false};
  std::optional<Position> pending;  // returned to the application, not yet handled
  // What is known of each assigned partition's offsets, to tell records the
  // broker deleted before they were read from offsets that merely jump.
  struct Progress {
    // The offset due next: after the last record returned, or where reading
    // was placed (an explicit start, a rewind). Unknown after an assignment.
    std::optional<std::int64_t> next;
    // The group's committed offset when the partition was assigned, once
    // asked for (loss_before), or -1 if it has none.
    std::optional<std::int64_t> committed;
  };
  std::map<std::pair<std::string, std::int32_t>, Progress, PartitionOrder> progress;
  // A decoded record held back while the loss before it is reported. It owns
  // its bytes, so holding it keeps nothing of librdkafka's.
  std::optional<Record> held;
  // Where each partition's end was last found, while no record of it has
  // been returned since (caught_up()).
  std::map<std::pair<std::string, std::int32_t>, std::int64_t, PartitionOrder> ends;
  bool closed = false;
  // While close() runs: when it must be done, which also bounds the commit
  // of the revoke it causes.
  std::optional<std::chrono::steady_clock::time_point> closing_by;
  // Writes dead letters; set when options.dead_letters is.
  std::unique_ptr<Producer> dead_letter_producer;
  std::string dead_letter_service;
  // True when the record next() returned last is already on the
  // dead-letter channel.
  bool last_dead_lettered = false;
  // A fetch that cannot succeed, from the error callback, for next().
  std::mutex stuck_mutex;
  std::optional<Error> stuck;

  std::optional<Record> take_stuck() {
    std::lock_guard lock(stuck_mutex);
    if (!stuck) return std::nullopt;
    Error error = std::move(*stuck);
    stuck.reset();
    logger()->error("{}", error.to_string());
    return failed_record(RecordLocation{}, std::move(error));
  }

  // A record that is only an error: nothing was fetched to go with it.
  static Record failed_record(RecordLocation where, Error error) {
    return Record(std::move(where), std::nullopt, std::nullopt, {}, -1, std::move(error), nullptr);
  }

  void open_dead_letters() {
    if (!options.dead_letters) return;
    const DeadLetterOptions& letters = *options.dead_letters;
    ChannelRegistry letter_registry;
    (void)letter_registry.bind<proto::DeadLetter>(letters.channel);
    ProducerOptions producer;
    producer.brokers = options.brokers;
    producer.client_id = options.client_id + "-dead-letters";
    producer.delivery_timeout = letters.write_timeout;
    producer.linger = std::chrono::milliseconds(0);
    producer.connect_timeout = std::chrono::milliseconds(0);  // the consumer just checked
    // A letter above this is written truncated (write_dead_letter).
    producer.max_record_bytes = letters.max_letter_bytes;
    // The consumer's own connection and security settings, so the letters
    // reach the cluster the records came from.
    producer.properties = detail::producer_properties_of(options.properties);
    for (const auto& [name, value] : letters.producer_properties) producer.properties[name] = value;
    dead_letter_producer = std::make_unique<Producer>(std::move(letter_registry), producer);
    dead_letter_service = letters.service;
    if (dead_letter_service.empty()) {
      const char* service = std::getenv("LOG_TAG_SERVICE");
      dead_letter_service = service != nullptr ? service : options.client_id;
    }
  }

  // Sends `letter` for `record` and waits for the broker's answer.
  DeliveryReport send_dead_letter(const Record& record, proto::DeadLetter& letter) {
    const std::string& channel = options.dead_letters->channel;
    // Keyed by origin, so the letters of one partition stay in order.
    SendOptions send;
    send.key = record.topic() + "[" + std::to_string(record.partition()) + "]";
    auto report = dead_letter_producer->send(channel, letter, std::move(send));
    if (report.wait_for(options.dead_letters->write_timeout + std::chrono::seconds(1)) !=
        std::future_status::ready) {
      return DeliveryReport{
          RecordLocation{channel, -1, -1},
          Error(Errc::timed_out, Stage::dead_letter,
                "no acknowledgement for the dead letter on '" + channel + "' within " +
                    std::to_string(options.dead_letters->write_timeout.count()) + " ms",
                record.location()),
          Persistence::possibly_persisted};
    }
    return report.get();
  }

  // Writes `record` to the dead-letter channel and waits for the broker. A
  // letter too large for the channel is written truncated, never refused.
  Status write_dead_letter(const Record& record, const Error& error, int attempts) {
    if (!dead_letter_producer) {
      return Error(Errc::invalid_argument, Stage::dead_letter,
                   "no dead-letter channel is configured (ConsumerOptions::dead_letters)",
                   record.location());
    }
    const DeadLetterOptions& letters = *options.dead_letters;
    auto letter = make_dead_letter(record, error, attempts, options.group_id, dead_letter_service);
    if (letter.ByteSizeLong() > letters.max_letter_bytes) letter = truncate_dead_letter(letter);
    DeliveryReport delivered = send_dead_letter(record, letter);
    if (!delivered.ok() && delivered.error->code() == Errc::too_large && !letter.truncated()) {
      logger()->warn("the dead letter for {} is too large for '{}' ({}); writing it truncated",
                     record.location().to_string(), letters.channel, delivered.error->message());
      letter = truncate_dead_letter(std::move(letter));
      delivered = send_dead_letter(record, letter);
    }
    if (!delivered.ok()) {
      Error failed(
          delivered.error->code(), Stage::dead_letter,
          "dead letter not written to '" + letters.channel + "': " + delivered.error->message(),
          record.location(), delivered.error->kafka_code());
      failed.set_severity(delivered.error->severity());
      return failed;
    }
    logger()->warn("{} went to the dead-letter channel as {}{} after {} attempt(s): {}",
                   record.location().to_string(), delivered.where.to_string(),
                   letter.truncated() ? " (truncated: key, headers and value left out)" : "",
                   attempts, error.to_string());
    return {};
  }

  // Makes the next poll fetch the record at `where` again, and keeps it (and
  // so everything after it in its partition) from counting as handled.
  void rewind(const RecordLocation& where) {
    if (pending && pending->topic == where.topic && pending->partition == where.partition) {
      pending.reset();
    }
    if (held && held->topic() == where.topic && held->partition() == where.partition) {
      held.reset();
    }
    progress[{where.topic, where.partition}].next = where.offset;
    if (auto failed = seek(where.topic, where.partition, where.offset)) {
      // Not ours any more (a rebalance): its next owner starts from the last
      // commit, which is before this record.
      logger()->warn("cannot fetch {} again here ({}); it is left uncommitted", where.to_string(),
                     *failed);
    }
  }

  // Makes `partition` fetch from `offset` (or a logical offset) next; why
  // not, if it cannot.
  std::optional<std::string> seek(const std::string& topic, std::int32_t partition,
                                  std::int64_t offset) {
    ends.erase({topic, partition});
    detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
    detail::ErrorPtr error(rd_kafka_seek_partitions(client.get(), list.get(), 5000));
    if (error) return rd_kafka_error_string(error.get());
    if (list->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return rd_kafka_err2str(list->elems[0].err);
    return std::nullopt;
  }

  // A failed decode goes to the dead-letter channel (if there is one)
  // before the application sees it.
  Record route(Record record) {
    if (record.ok() || !dead_letter_producer) return record;
    const Status written = write_dead_letter(record, record.error(), 1);
    if (written.ok()) {
      last_dead_lettered = true;
      return record;
    }
    logger()->error("{}; {} will be fetched again", written.error().to_string(),
                    record.location().to_string());
    rewind(record.location());
    const auto* binding = registry.find(record.topic());
    const auto copy = [](std::optional<std::string_view> bytes) {
      return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
    };
    return Record(record.location(), copy(record.key()), copy(record.value()), record.headers(),
                  record.timestamp_ms(), written.error(),
                  binding != nullptr ? binding->metadata_field() : nullptr);
  }

  bool grouped() const noexcept { return !options.group_id.empty(); }

  // The brokers this consumer bootstraps from, a property overriding the option.
  std::string bootstrap() const {
    const auto set = options.properties.find("bootstrap.servers");
    return set != options.properties.end() ? set->second : options.brokers;
  }

  // ConsumerOptions::session_timeout, or its default where this consumer is
  // (is_embedded_broker reads the address file: properties() asks it once).
  std::chrono::milliseconds session_timeout(bool on_embedded_broker) const {
    if (options.session_timeout) return *options.session_timeout;
    return on_embedded_broker ? std::chrono::seconds(6) : std::chrono::seconds(45);
  }

  detail::Properties properties() const {
    const bool after_handled = grouped() && options.commit_mode == CommitMode::after_handled;
    const bool automatic = grouped() && options.commit_mode == CommitMode::automatic;
    const bool embedded = is_embedded_broker(bootstrap());
    detail::Properties props{
        {"bootstrap.servers", options.brokers},
        {"client.id", options.client_id},
        {"enable.auto.commit", after_handled || automatic ? "true" : "false"},
        // corps stores an offset only once its record was handled.
        {"enable.auto.offset.store", automatic ? "true" : "false"},
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
        {"session.timeout.ms", std::to_string(session_timeout(embedded).count())},
        {"reconnect.backoff.ms", "100"},
        {"reconnect.backoff.max.ms", "10000"},
    };
    if (!options.session_timeout && embedded) {
      // The embedded broker holds a rebalance for the session timeout:
      // heartbeats must come often enough for a 6 s session.
      props["heartbeat.interval.ms"] = "1000";
    }
    // librdkafka's assign() needs a group id even when no group is joined:
    // a private one that never commits, so no group state is ever created.
    props["group.id"] =
        grouped() ? options.group_id : "corps-no-group-" + std::to_string(::getpid());
    for (const auto& [name, value] : options.properties) props[name] = value;
    return props;
  }

  void validate() const {
    detail::check_brokers(options.brokers, "consumer");
    if (grouped() && options.start_offset) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "start_offset applies only without a group (a group resumes from its "
                            "commits); leave group_id empty or start_offset unset"));
    }
    if (options.channels.empty()) {
      throw Exception(Error(Errc::invalid_argument, Stage::subscribe,
                            "consumer options name no channels to subscribe to"));
    }
    if (options.session_timeout && *options.session_timeout <= std::chrono::milliseconds(0)) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "session_timeout is " +
                                std::to_string(options.session_timeout->count()) +
                                " ms; a group needs a positive session timeout"));
    }
    if (options.retry.max_attempts < 1) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "retry.max_attempts is " + std::to_string(options.retry.max_attempts) +
                                "; a handler needs at least one attempt"));
    }
    if (options.dead_letters) {
      const std::string& channel = options.dead_letters->channel;
      if (channel.empty()) {
        throw Exception(Error(Errc::invalid_argument, Stage::config,
                              "dead_letters.channel is empty; name the dead-letter channel"));
      }
      if (std::find(options.channels.begin(), options.channels.end(), channel) !=
          options.channels.end()) {
        throw Exception(Error(Errc::invalid_argument, Stage::config,
                              "the consumer reads its own dead-letter channel '" + channel +
                                  "'; a letter that fails would loop back forever"));
      }
    }
    for (const auto& channel : options.channels) (void)registry.at(channel, Stage::subscribe);
  }

  bool stopped() const noexcept {
    return stop_requested.load(std::memory_order_acquire) ||
           (options.signals == SignalHandling::stop && shutdown_requested());
  }

  Status store(const std::string& topic, std::int32_t partition, std::int64_t next_offset) {
    detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = next_offset;
    const auto err = rd_kafka_offsets_store(client.get(), list.get());
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return {};
    }
    const auto reason = err != RD_KAFKA_RESP_ERR_NO_ERROR ? err : list->elems[0].err;
    return detail::kafka_error(
        reason, Stage::commit,
        "cannot mark the record before offset " + std::to_string(next_offset) + " handled",
        RecordLocation{topic, partition, next_offset - 1});
  }

  void store_pending() {
    if (!pending || !grouped() || options.commit_mode == CommitMode::automatic) {
      pending.reset();
      return;
    }
    const Status stored = store(pending->topic, pending->partition, pending->next_offset);
    if (!stored.ok()) {
      // The partition moved to another member: it will deliver the record
      // again, which at-least-once allows.
      logger()->warn("{}", stored.error().to_string());
    }
    pending.reset();
  }

  // Commits stored offsets, waiting at most `timeout` for the broker.
  Status commit_stored_within(std::chrono::milliseconds timeout) {
    if (!grouped()) return {};
    detail::QueuePtr queue(rd_kafka_queue_new(client.get()));
    const auto err = rd_kafka_commit_queue(client.get(), nullptr, queue.get(), nullptr, nullptr);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return err == RD_KAFKA_RESP_ERR__NO_OFFSET
                 ? Status{}
                 : Status(detail::kafka_error(err, Stage::commit,
                                              "commit of group '" + options.group_id + "' failed"));
    }
    detail::EventPtr result(rd_kafka_queue_poll(queue.get(), static_cast<int>(timeout.count())));
    if (!result) {
      return Error(Errc::timed_out, Stage::commit,
                   "no answer to the commit of group '" + options.group_id + "' within " +
                       std::to_string(timeout.count()) +
                       " ms; handled records may be delivered again");
    }
    const auto result_err = rd_kafka_event_error(result.get());
    if (result_err == RD_KAFKA_RESP_ERR_NO_ERROR || result_err == RD_KAFKA_RESP_ERR__NO_OFFSET)
      return {};
    return detail::kafka_error(result_err, Stage::commit,
                               "commit of group '" + options.group_id + "' failed");
  }

  // Leaves the group, serving rebalance callbacks, for at most `timeout`.
  bool leave_within(std::chrono::milliseconds timeout) {
    detail::QueuePtr queue(rd_kafka_queue_new(client.get()));
    detail::ErrorPtr error(rd_kafka_consumer_close_queue(client.get(), queue.get()));
    if (error) {
      logger()->warn("closing consumer '{}': {}", options.client_id,
                     rd_kafka_error_string(error.get()));
      return false;
    }
    // A group's close revokes its assignment through this queue, and
    // librdkafka's destroy waits for that revoke to be handled: once the
    // close has begun, the revoke is served even past the deadline (it is a
    // local event; the revoke's commit then gets no time at all).
    constexpr std::chrono::seconds revoke_grace{2};
    bool revoked = !grouped() || nothing_assigned();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (rd_kafka_consumer_closed(client.get()) == 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline && (revoked || now >= deadline + revoke_grace)) break;
      detail::EventPtr event(rd_kafka_queue_poll(queue.get(), 100));
      // The close revokes the assignment: the same handling as a rebalance.
      if (event && rd_kafka_event_type(event.get()) == RD_KAFKA_EVENT_REBALANCE) {
        on_rebalance(client.get(), rd_kafka_event_error(event.get()),
                     rd_kafka_event_topic_partition_list(event.get()), this);
        revoked =
            revoked || rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
      }
    }
    return rd_kafka_consumer_closed(client.get()) != 0;
  }

  bool nothing_assigned() const {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(client.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return true;
    const detail::PartitionListPtr list(raw);
    return list->cnt == 0;
  }

  // How long a commit may wait for the broker: what is left of close()'s
  // time while closing, close_timeout otherwise.
  std::chrono::milliseconds commit_budget() const {
    if (!closing_by) return options.close_timeout;
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        *closing_by - std::chrono::steady_clock::now()));
  }

  static void on_rebalance(rd_kafka_t* client, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    try {
      const bool cooperative =
          std::string_view(rd_kafka_rebalance_protocol(client)) == "COOPERATIVE";
      if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        logger()->info("consumer '{}' of group '{}' assigned: {}", self->options.client_id,
                       self->options.group_id, describe(partitions));
        for (int i = 0; i < (partitions != nullptr ? partitions->cnt : 0); ++i) {
          self->progress[{partitions->elems[i].topic, partitions->elems[i].partition}] = {};
        }
        if (cooperative) {
          log_rebalance_error(rd_kafka_incremental_assign(client, partitions));
        } else {
          rd_kafka_assign(client, partitions);
        }
        return;
      }
      logger()->info("consumer '{}' of group '{}' revoked: {}{}", self->options.client_id,
                     self->options.group_id, describe(partitions),
                     err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS
                         ? ""
                         : std::string(" (") + rd_kafka_err2str(err) + ")");
      for (int i = 0; i < (partitions != nullptr ? partitions->cnt : 0); ++i) {
        const std::pair<std::string, std::int32_t> key{partitions->elems[i].topic,
                                                       partitions->elems[i].partition};
        self->ends.erase(key);
        self->progress.erase(key);
        // A held record of a partition leaving us goes to its next owner.
        if (self->held && self->held->topic() == key.first &&
            self->held->partition() == key.second) {
          self->held.reset();
        }
      }
      // Handled records of the partitions leaving us are committed now, so
      // their next owner does not deliver them again; bounded, so a broker
      // that went away does not hold the rebalance (or close()) with it.
      if (self->options.commit_mode != CommitMode::manual) {
        const Status committed = self->commit_stored_within(self->commit_budget());
        if (!committed.ok()) logger()->warn("{}", committed.error().to_string());
      }
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

  static void log_rebalance_error(rd_kafka_error_t* error) {
    detail::ErrorPtr owned(error);
    if (owned)
      logger()->error("incremental rebalance failed: {}", rd_kafka_error_string(owned.get()));
  }

  static void on_error(rd_kafka_t* client, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    try {
      const auto code = static_cast<rd_kafka_resp_err_t>(err);
      if (code == RD_KAFKA_RESP_ERR__BAD_MSG &&
          std::string_view(reason).find("receive.message.max.bytes") != std::string_view::npos) {
        // librdkafka reconnects and fetches the same too-large response
        // forever: tell the application (next poll) instead.
        std::lock_guard lock(self->stuck_mutex);
        self->stuck = Error(Errc::too_large, Stage::consume,
                            std::string(reason) + "; the consumer cannot read past a record " +
                                "larger than ConsumerOptions::max_record_bytes (" +
                                std::to_string(self->options.max_record_bytes) +
                                " B): raise it to at least the producers' max_record_bytes",
                            std::nullopt, code);
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

  // The oldest offset the broker still has in the partition of `where`,
  // from the last fetch (asked for if unknown), or -1 if it cannot be had.
  std::int64_t log_start(const RecordLocation& where) {
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(client.get(), where.topic.c_str(), where.partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        low >= 0) {
      return low;
    }
    if (rd_kafka_query_watermark_offsets(client.get(), where.topic.c_str(), where.partition, &low,
                                         &high, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return -1;
    }
    return low;
  }

  // The group's committed offset of `where`'s partition when it was
  // assigned, or -1 if none or unknown. One question to the broker for every
  // assigned partition not asked about yet.
  std::int64_t committed_start(const RecordLocation& where) {
    auto& state = progress[{where.topic, where.partition}];
    if (!state.committed) {
      detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
      for (const auto& [key, known] : progress) {
        if (!known.committed && !known.next) {
          rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second);
        }
      }
      rd_kafka_topic_partition_list_add(list.get(), where.topic.c_str(), where.partition);
      const auto err = rd_kafka_committed(client.get(), list.get(), 5000);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        logger()->warn(
            "cannot read group '{}''s committed offsets ({}): records deleted before "
            "{} was read would go unreported",
            options.group_id, rd_kafka_err2str(err), where.to_string());
        return -1;
      }
      for (int i = 0; i < list->cnt; ++i) {
        const auto& element = list->elems[i];
        auto found = progress.find(PartitionOrder::View(element.topic, element.partition));
        if (found == progress.end()) continue;
        found->second.committed =
            element.err == RD_KAFKA_RESP_ERR_NO_ERROR && element.offset >= 0 ? element.offset : -1;
      }
    }
    return state.committed.value_or(-1);
  }

  // A failed record for offsets of `where`'s partition that the broker
  // deleted before this consumer read them, or nullopt if none were. Offsets
  // may jump for other reasons (compaction, transaction markers, a start at
  // the end): only offsets below the partition's log start were deleted.
  std::optional<Record> loss_before(const RecordLocation& where) {
    auto& state = progress[{where.topic, where.partition}];
    const std::optional<std::int64_t> due = state.next;
    state.next = where.offset + 1;
    std::int64_t from = -1;
    if (due) {
      if (*due >= where.offset) return std::nullopt;  // no jump
      from = *due;
    } else if (grouped()) {
      // The first record since the partition was assigned. A group resumes
      // from its commit, unless the broker deleted the records there, when
      // it starts at the oldest one kept: the log start, past the commit.
      std::int64_t low = -1;
      std::int64_t high = -1;
      if (rd_kafka_get_watermark_offsets(client.get(), where.topic.c_str(), where.partition, &low,
                                         &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          low <= 0 || where.offset != low) {
        return std::nullopt;  // nothing deleted, or not started at the log start
      }
      from = committed_start(where);
      if (from < 0 || from >= where.offset) return std::nullopt;
    } else {
      return std::nullopt;  // no group: the start was where it was asked to be
    }
    const std::int64_t low = log_start(where);
    if (low < 0 || from >= low) return std::nullopt;  // compacted or skipped, not deleted
    const std::int64_t to = std::min(where.offset, low);
    RecordLocation missing{where.topic, where.partition, from};
    Error error(Errc::records_missing, Stage::consume,
                "offsets " + std::to_string(from) + ".." + std::to_string(to - 1) +
                    " were never delivered: the broker deleted them (retention) before this "
                    "consumer read them",
                missing, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
    logger()->error("{}", error.to_string());
    return failed_record(std::move(missing), std::move(error));
  }

  Error no_group_to_commit() const {
    return Error(Errc::invalid_argument, Stage::commit,
                 "a consumer without a group has nowhere to commit offsets");
  }

  // Without a group: every partition of every channel, from start_offset or
  // start_from.
  void assign_all() {
    detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(8));
    const int timeout =
        static_cast<int>(std::max<std::int64_t>(options.connect_timeout.count(), 5000));
    for (const auto& channel : options.channels) {
      rd_kafka_topic_t* handle = rd_kafka_topic_new(client.get(), channel.c_str(), nullptr);
      const rd_kafka_metadata_t* raw = nullptr;
      const auto err = rd_kafka_metadata(client.get(), 0, handle, &raw, timeout);
      rd_kafka_topic_destroy(handle);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw Exception(detail::kafka_error(err, Stage::subscribe,
                                            "cannot read the partitions of '" + channel + "'"));
      }
      const detail::MetadataPtr metadata(raw);
      if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw Exception(
            detail::kafka_error(metadata->topic_cnt == 1 ? metadata->topics[0].err
                                                         : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                Stage::subscribe, "cannot read channel '" + channel + "'"));
      }
      for (int p = 0; p < metadata->topics[0].partition_cnt; ++p) {
        std::int64_t start = options.start_from == StartFrom::earliest ? RD_KAFKA_OFFSET_BEGINNING
                                                                       : RD_KAFKA_OFFSET_END;
        if (options.start_offset) {
          start = *options.start_offset >= 0 ? *options.start_offset
                                             : RD_KAFKA_OFFSET_TAIL(-*options.start_offset);
        }
        const std::int32_t partition = metadata->topics[0].partitions[p].id;
        rd_kafka_topic_partition_list_add(list.get(), channel.c_str(), partition)->offset = start;
        if (start >= 0) progress[{channel, partition}].next = start;
      }
    }
    const auto err = rd_kafka_assign(client.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(
          detail::kafka_error(err, Stage::subscribe, "cannot assign " + describe(list.get())));
    }
    logger()->info("consumer '{}' (no group) reading {}", options.client_id, describe(list.get()));
  }

  std::optional<Record> next(std::chrono::milliseconds timeout) {
    if (closed) return std::nullopt;
    store_pending();
    last_dead_lettered = false;
    if (held) {
      Record record = std::move(*held);
      held.reset();
      return hand_out(std::move(record));
    }
    using clock = std::chrono::steady_clock;
    std::optional<clock::time_point> deadline;  // read the clock only if nothing is waiting
    for (;;) {
      if (stopped()) return std::nullopt;
      std::chrono::milliseconds slice(0);
      if (deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - clock::now());
        // Short slices, so stop() and signals are seen promptly.
        slice = std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(100));
      }
      rd_kafka_message_t* raw =
          rd_kafka_consumer_poll(client.get(), static_cast<int>(slice.count()));
      if (raw == nullptr) {
        if (!deadline) {
          deadline = clock::now() + timeout;
          continue;
        }
        if (auto stalled = take_stuck()) return stalled;
        if (clock::now() >= *deadline) return std::nullopt;
        continue;
      }
      const detail::MessagePtr message(raw);
      RecordLocation where{message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "",
                           message->partition, message->offset};
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ends[{where.topic, where.partition}] = where.offset;
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        // librdkafka retries these itself (a fetch that timed out, a leader
        // that moved): a log line, not a record.
        if (recovers_by_itself(message->err) ||
            detail::kafka_severity(message->err) == Severity::retriable) {
          logger()->warn("consumer: {}; retrying", rd_kafka_message_errstr(message.get()));
          continue;
        }
        Error error = detail::kafka_error(message->err, Stage::consume,
                                          rd_kafka_message_errstr(message.get()), where);
        return failed_record(std::move(where), std::move(error));
      }
      if (!ends.empty()) {
        // (Heterogeneous erase is C++23; find is C++14.)
        const auto end = ends.find(PartitionOrder::View(where.topic, where.partition));
        if (end != ends.end()) ends.erase(end);
      }
      auto lost = loss_before(where);
      Record record = decode(*message, std::move(where));
      if (lost) {
        held.emplace(std::move(record));
        return lost;
      }
      return hand_out(std::move(record));
    }
  }

  // `record` to the application: it counts as handled once the next is
  // asked for; a failed decode goes to the dead-letter channel first.
  Record hand_out(Record record) {
    pending = Position{record.topic(), record.partition(), record.offset() + 1};
    return route(std::move(record));
  }

  // Waits `wait`, in short slices so stop() and signals cut it short.
  // Returns false if stopped meanwhile.
  bool sleep_unless_stopped(std::chrono::milliseconds wait) const {
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!stopped()) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) return true;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          until - now, std::chrono::milliseconds(50)));
    }
    return false;
  }

  // Calls `handle` up to retry.max_attempts times; the last failure, or
  // nullopt once it returned. `attempts` says how many calls were made.
  std::optional<Error> attempt(const RecordHandler& handle, const Record& record, int& attempts) {
    for (attempts = 1;; ++attempts) {
      std::optional<Error> failure;
      try {
        handle(record);
        return std::nullopt;
      } catch (const std::exception& e) {
        failure.emplace(Errc::handler_failed, Stage::handler, e.what(), record.location());
      } catch (...) {
        failure.emplace(Errc::handler_failed, Stage::handler,
                        "the handler threw something that is not a std::exception",
                        record.location());
      }
      logger()->warn("handler failed on {} (attempt {} of {}): {}", record.location().to_string(),
                     attempts, options.retry.max_attempts, failure->message());
      if (attempts >= options.retry.max_attempts ||
          !sleep_unless_stopped(options.retry.backoff_before(attempts + 1))) {
        return failure;
      }
    }
  }

  // The record in `message`, decoded; it copies what it keeps, so the
  // message goes back to librdkafka right after.
  Record decode(const rd_kafka_message_t& message, RecordLocation where) {
    std::optional<std::string> refused;
    Headers headers = read_headers(&message, options.loader, refused);
    const char* value = static_cast<const char*>(message.payload);
    RawRecord raw{where.topic, where.partition, where.offset,
                  value,       message.len,     headers.empty() ? nullptr : &headers};
    auto decoded = refused ? Result<std::unique_ptr<google::protobuf::Message>>(
                                 Error(Errc::too_large, Stage::headers, *refused, where))
                           : loader.load(raw);
    std::optional<std::string> key;
    if (message.key != nullptr) key.emplace(static_cast<const char*>(message.key), message.key_len);
    std::optional<std::string> value_copy;
    if (value != nullptr) value_copy.emplace(value, message.len);
    rd_kafka_timestamp_type_t kind{};
    const std::int64_t timestamp = rd_kafka_message_timestamp(&message, &kind);
    const auto* binding = registry.find(where.topic);
    return Record(std::move(where), std::move(key), std::move(value_copy), std::move(headers),
                  timestamp, std::move(decoded),
                  binding != nullptr ? binding->metadata_field() : nullptr);
  }
};

Consumer::Consumer(ChannelRegistry registry, ConsumerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {
  impl_->validate();
  if (impl_->options.signals == SignalHandling::stop) install_shutdown_handlers();
  auto conf = detail::make_conf(impl_->properties());
  rd_kafka_conf_set_opaque(conf.get(), impl_.get());
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::on_rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &Impl::on_error);
  impl_->client = detail::make_client(RD_KAFKA_CONSUMER, std::move(conf));
  rd_kafka_poll_set_consumer(impl_->client.get());
  detail::wait_for_brokers(impl_->client.get(), impl_->options.brokers,
                           impl_->options.connect_timeout);
  impl_->open_dead_letters();
  if (!impl_->grouped()) {
    impl_->assign_all();
    return;
  }
  detail::PartitionListPtr topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(impl_->options.channels.size())));
  for (const auto& channel : impl_->options.channels) {
    rd_kafka_topic_partition_list_add(topics.get(), channel.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const auto err = rd_kafka_subscribe(impl_->client.get(), topics.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Exception(detail::kafka_error(err, Stage::subscribe,
                                        "cannot subscribe to " + describe(topics.get())));
  }
  logger()->info("consumer '{}' of group '{}' subscribed to {}", impl_->options.client_id,
                 impl_->options.group_id, describe(topics.get()));
}

Consumer::~Consumer() {
  try {
    // Unwinding means the last record's handler may have failed: leave it
    // unhandled so it is delivered again.
    if (std::uncaught_exceptions() > 0) impl_->pending.reset();
    const Status closed = close();
    if (!closed.ok()) logger()->error("{}", closed.error().to_string());
  } catch (const std::exception& e) {
    logger()->error("consumer close failed: {}", e.what());
  }
  // close() has left the group (or given up): destroying must not try again
  // and wait on a broker that may be gone.
  if (impl_->client) {
    detail::destroy_client(impl_->client.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }
}

std::optional<Record> Consumer::poll(std::chrono::milliseconds timeout) {
  return impl_->next(timeout);
}

Status Consumer::run(const RecordHandler& handle) {
  Impl& impl = *impl_;
  // Gives up on `record` for now: it stays uncommitted and is fetched again.
  const auto keep = [&impl](const Record& record, const Error& error) -> Status {
    impl.rewind(record.location());
    Error kept(error.code(), error.stage(),
               error.message() + "; the record stays uncommitted and will be delivered again",
               record.location(), error.kafka_code());
    kept.set_severity(error.severity());
    return kept;
  };
  while (!impl.closed && !impl.stopped()) {
    auto record = impl.next(std::chrono::milliseconds(500));
    if (!record) continue;
    if (!record->ok()) {
      const Error& error = record->error();
      if (impl.last_dead_lettered) continue;
      if (error.stage() == Stage::dead_letter) {
        // Already rewound; try again after a pause unless it cannot work.
        if (!error.retriable()) return error;
        (void)impl.sleep_unless_stopped(impl.options.retry.max_backoff);
        continue;
      }
      if (error.stage() == Stage::consume) {
        // No record to hand over: a gap the broker made (already logged) or
        // a client error it recovers from.
        if (error.severity() == Severity::fatal) return error;
        // (Gaps and records too large to fetch were logged when found.)
        if (error.code() != Errc::records_missing && error.code() != Errc::too_large) {
          logger()->error("{}", error.to_string());
        }
        continue;
      }
      return keep(*record, Error(error.code(), error.stage(),
                                 error.message() + "; no dead-letter channel is configured "
                                                   "(ConsumerOptions::dead_letters)",
                                 record->location(), error.kafka_code()));
    }
    int attempts = 0;
    const auto failure = impl.attempt(handle, *record, attempts);
    if (!failure) continue;
    if (impl.stopped()) {
      // Stopped between attempts: unhandled, so delivered again.
      impl.rewind(record->location());
      return {};
    }
    if (!impl.dead_letter_producer) {
      return keep(*record, Error(failure->code(), failure->stage(),
                                 failure->message() + " (after " + std::to_string(attempts) +
                                     " attempts; no dead-letter channel is configured)",
                                 record->location()));
    }
    const Status written = impl.write_dead_letter(*record, *failure, attempts);
    if (!written.ok()) {
      logger()->error("{}", written.error().to_string());
      if (!written.error().retriable()) return keep(*record, written.error());
      impl.rewind(record->location());
      (void)impl.sleep_unless_stopped(impl.options.retry.max_backoff);
    }
  }
  return {};
}

Status Consumer::dead_letter(const Record& record, const Error& error, int attempts) {
  const Status written = impl_->write_dead_letter(record, error, attempts);
  if (!written.ok()) impl_->rewind(record.location());
  return written;
}

Status check_record_limits(const ProducerOptions& producer, const ConsumerOptions& consumer) {
  if (producer.max_record_bytes <= consumer.max_record_bytes) return {};
  return Error(Errc::too_large, Stage::config,
               "the producer may send records of up to " +
                   std::to_string(producer.max_record_bytes) +
                   " B (ProducerOptions::max_record_bytes) but the consumer fetches at most " +
                   std::to_string(consumer.max_record_bytes) +
                   " B (ConsumerOptions::max_record_bytes): it would stop at the first larger "
                   "record; raise the consumer's limit or lower the producer's");
}

Consumer::iterator Consumer::begin() {
  return iterator(this);
}

Status Consumer::commit() {
  if (impl_->closed) return Error(Errc::closed, Stage::commit, "the consumer is closed");
  if (!impl_->grouped()) return impl_->no_group_to_commit();
  impl_->store_pending();
  const auto err = rd_kafka_commit(impl_->client.get(), nullptr, 0);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) return {};
  return detail::kafka_error(err, Stage::commit,
                             "commit of group '" + impl_->options.group_id + "' failed");
}

Status Consumer::commit(const Record& record) {
  if (impl_->closed) return Error(Errc::closed, Stage::commit, "the consumer is closed");
  if (!impl_->grouped()) return impl_->no_group_to_commit();
  if (impl_->pending && impl_->pending->topic == record.topic() &&
      impl_->pending->partition == record.partition() &&
      impl_->pending->next_offset <= record.offset() + 1) {
    impl_->pending.reset();
  }
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), record.topic().c_str(), record.partition())
      ->offset = record.offset() + 1;
  const auto err = rd_kafka_commit(impl_->client.get(), list.get(), 0);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::kafka_error(err, Stage::commit, "commit failed", record.location());
  }
  return {};
}

void Consumer::stop() noexcept {
  impl_->stop_requested.store(true, std::memory_order_release);
}

bool Consumer::stopped() const noexcept {
  return impl_->stopped();
}

Status Consumer::close() {
  if (impl_->closed) return {};
  impl_->closed = true;
  // One deadline for the commit and for leaving the group (whose revoke
  // commits again): a broker that went away must not keep the program from
  // ending.
  impl_->closing_by = std::chrono::steady_clock::now() + impl_->options.close_timeout;
  Status committed;
  if (impl_->options.commit_mode != CommitMode::manual) {
    impl_->store_pending();
    // Half the time at most: leaving needs the rest.
    committed = impl_->commit_stored_within(impl_->commit_budget() / 2);
  }
  if (!impl_->leave_within(impl_->commit_budget())) {
    logger()->warn("consumer '{}' closed without the broker's acknowledgement after {} ms",
                   impl_->options.client_id, impl_->options.close_timeout.count());
  }
  logger()->info("consumer '{}' {} closed", impl_->options.client_id,
                 impl_->grouped() ? "of group '" + impl_->options.group_id + "'" : "(no group)");
  return committed;
}

std::optional<std::int64_t> Consumer::caught_up(const TopicPartition& partition) const {
  const auto it =
      impl_->ends.find(Impl::PartitionOrder::View(partition.topic, partition.partition));
  if (it == impl_->ends.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(impl_->client.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  detail::PartitionListPtr list(raw);
  for (int i = 0; i < list->cnt; ++i)
    out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

std::vector<PartitionLag> Consumer::lag() const {
  std::vector<PartitionLag> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(impl_->client.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  detail::PartitionListPtr list(raw);
  rd_kafka_position(impl_->client.get(), list.get());
  for (int i = 0; i < list->cnt; ++i) {
    const auto& element = list->elems[i];
    PartitionLag lag{{element.topic, element.partition}, element.offset, -1, -1};
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(impl_->client.get(), element.topic, element.partition, &low,
                                       &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      lag.high_watermark = high;
      if (lag.position >= 0) lag.lag = std::max<std::int64_t>(0, high - lag.position);
    }
    out.push_back(std::move(lag));
  }
  return out;
}

Result<std::pair<std::int64_t, std::int64_t>> Consumer::watermarks(
    const TopicPartition& partition, std::chrono::milliseconds timeout) const {
  std::int64_t low = -1;
  std::int64_t high = -1;
  const auto err = rd_kafka_query_watermark_offsets(impl_->client.get(), partition.topic.c_str(),
                                                    partition.partition, &low, &high,
                                                    static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::kafka_error(err, Stage::consume, "cannot read the watermarks",
                               RecordLocation{partition.topic, partition.partition, -1});
  }
  return std::make_pair(low, high);
}

Result<std::int64_t> Consumer::committed(const TopicPartition& partition,
                                         std::chrono::milliseconds timeout) const {
  detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition);
  auto err = rd_kafka_committed(impl_->client.get(), list.get(), static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[0].err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::kafka_error(err, Stage::commit, "cannot read the committed offset",
                               RecordLocation{partition.topic, partition.partition, -1});
  }
  const auto offset = list->elems[0].offset;
  return offset < 0 ? std::int64_t{-1} : offset;
}

Consumer::iterator::iterator(Consumer* consumer) : consumer_(consumer) {
  advance();
}

Consumer::iterator& Consumer::iterator::operator++() {
  advance();
  return *this;
}

void Consumer::iterator::advance() {
  current_.reset();
  while (!consumer_->stopped() && !consumer_->impl_->closed) {
    if (auto record = consumer_->poll(std::chrono::milliseconds(500))) {
      current_ = std::make_shared<Record>(std::move(*record));
      return;
    }
  }
}

}  // namespace corps
