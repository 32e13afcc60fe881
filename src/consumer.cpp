// The record loop of corps::Consumer: fetch, decode, hand out, rewind,
// commit, close. run() is in consumer_run.cpp; the Kafka client, the offsets'
// bookkeeping and the dead-letter channel are in detail/ (consumer_impl.hpp).
// Longer than most files here because the loop is one state machine (the
// record held back behind a gap, the pending offset, rewinds, closing):
// split, its invariants would no longer read in one place.
#include "corps/consumer.hpp"

#include <algorithm>
#include <exception>

#include "corps/logging.hpp"
#include "corps/shutdown.hpp"
#include "detail/channel_lookup.hpp"
#include "detail/consumer_impl.hpp"
#include "detail/record_access.hpp"

namespace corps {

namespace {

// Errors the client recovers from by itself (reconnecting with backoff):
// worth a log line, not worth interrupting the application.
bool recovers_by_itself(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__TIMED_OUT;
}

// Where `message` is from.
RecordLocation location_of(const rd_kafka_message_t& message) {
  return RecordLocation{message.rkt != nullptr ? rd_kafka_topic_name(message.rkt) : "",
                        message.partition, message.offset};
}

// At most this many messages are taken from librdkafka ahead per record
// handed out: the read-ahead fills in steps, so the first record of a long
// backlog is not kept waiting while the bound fills.
constexpr int read_ahead_step = 128;

// More threads than this would only contend: decoding is bound by cores.
constexpr unsigned max_decode_threads = 64;

// A record that is only an error: nothing was fetched to go with it.
Record failed_record(RecordLocation where, Error error) {
  return detail::RecordAccess::make(std::move(where), std::nullopt, std::nullopt, {}, -1,
                                    std::move(error), nullptr);
}

}  // namespace

Consumer::Impl::Impl(ChannelRegistry r, ConsumerOptions o)
    : registry(std::move(r)), options(std::move(o)), offsets(!options.group_id.empty()) {}

bool Consumer::Impl::stopped() const noexcept {
  return stop_requested.load(std::memory_order_acquire) ||
         (options.signals == SignalHandling::stop && shutdown_requested());
}

void Consumer::Impl::validate() const {
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
                          "session_timeout is " + std::to_string(options.session_timeout->count()) +
                              " ms; a group needs a positive session timeout"));
  }
  if (options.decode_threads > max_decode_threads) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "decode_threads is " + std::to_string(options.decode_threads) +
                              "; at most " + std::to_string(max_decode_threads) +
                              " decode in parallel"));
  }
  if (options.decode_threads > 0 && options.decode_ahead_bytes == 0) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "decode_ahead_bytes is 0, so nothing could be decoded ahead; give it "
                          "room, or set decode_threads to 0"));
  }
  if (options.fetch_wait && *options.fetch_wait < std::chrono::milliseconds(0)) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "fetch_wait is " + std::to_string(options.fetch_wait->count()) +
                              " ms; the broker cannot wait less than nothing"));
  }
  // corps stores offsets only once records are handled (or handed out),
  // relies on librdkafka committing them (as it lets partitions go, too),
  // and reads where partitions end for caught_up(): properties that took
  // any of that over would break what commit_mode promises.
  for (const char* owned : {"enable.auto.commit", "auto.commit.enable", "enable.auto.offset.store",
                            "enable.partition.eof"}) {
    if (options.properties.contains(owned)) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "the librdkafka property '" + std::string(owned) +
                                "' is corps's to set: it stores and commits offsets as "
                                "commit_mode says (after_handled, automatic or manual) and "
                                "reads where partitions end; set commit_mode instead"));
    }
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
  // With a schema registry, a channel that is not bound is read by its
  // records' schema ids.
  if (!options.schema_registry && !options.read_unbound_channels) {
    for (const auto& channel : options.channels) {
      (void)detail::bound_channel(registry, channel, Stage::subscribe);
    }
  }
}

std::chrono::milliseconds Consumer::Impl::commit_budget() const {
  if (!closing_by) return options.close_timeout;
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      *closing_by - std::chrono::steady_clock::now()));
}

void Consumer::Impl::assigned(const std::vector<TopicPartition>& partitions) {
  for (const auto& partition : partitions) offsets.assigned(partition.topic, partition.partition);
}

void Consumer::Impl::revoking(const std::vector<TopicPartition>& partitions) {
  for (const auto& partition : partitions) {
    offsets.revoked(partition.topic, partition.partition);
    // Decoded ahead for this consumer, to be read again by the next owner.
    if (ahead) ahead->discard(partition.topic, partition.partition);
    // A held record of a partition leaving us goes to its next owner.
    if (held && held->topic() == partition.topic && held->partition() == partition.partition) {
      held.reset();
    }
  }
  // Handled records of the partitions leaving us are committed now, so their
  // next owner does not deliver them again; bounded, so a broker that went
  // away does not hold the rebalance with it. Not in a close: close() has
  // committed, and librdkafka commits the stored offsets again as it lets
  // the partitions go; a commit asked for here can reach the group as it
  // terminates, which librdkafka 2.0 answers with an abort
  // (ConsumerLifecycle.AMemberTheGroupDroppedWhileItWasIdleStillCloses).
  if (options.commit_mode != CommitMode::manual && !closing_by) {
    const Status committed = kafka->commit_stored_within(commit_budget());
    if (!committed.ok()) logger()->warn("{}", committed.error().to_string());
  }
}

void Consumer::Impl::store_pending() {
  const auto pending = offsets.take_pending();
  if (!pending || !grouped() || options.commit_mode == CommitMode::automatic) return;
  const Status stored = kafka->store(pending->topic, pending->partition, pending->next_offset);
  if (!stored.ok()) {
    // The partition moved to another member: it will deliver the record
    // again, which at-least-once allows.
    logger()->warn("{}", stored.error().to_string());
  }
}

void Consumer::Impl::rewind(const RecordLocation& where) {
  if (held && held->topic() == where.topic && held->partition() == where.partition) held.reset();
  // What was decoded ahead of the partition comes after `where`: it is
  // fetched again after it.
  if (ahead) ahead->discard(where.topic, where.partition);
  offsets.placed(where.topic, where.partition, where.offset);
  if (auto failed = kafka->seek(where.topic, where.partition, where.offset)) {
    // Not ours any more (a rebalance): its next owner starts from the last
    // commit, which is before this record.
    logger()->warn("cannot fetch {} again here ({}); it is left uncommitted", where.to_string(),
                   *failed);
  }
}

Status Consumer::Impl::write_dead_letter(const Record& record, const Error& error, int attempts) {
  if (!letters) {
    return Error(Errc::invalid_argument, Stage::dead_letter,
                 "no dead-letter channel is configured (ConsumerOptions::dead_letters)",
                 record.location());
  }
  const Status written = letters->write(record, error, attempts);
  if (written.ok() && metrics) metrics->dead_lettered(record.topic());
  return written;
}

// A failed decode goes to the dead-letter channel (if there is one) before
// the application sees it.
void Consumer::Impl::route(Record& record) {
  if (record.ok() || !letters) return;
  const Status written = letters->write(record, record.error(), 1);
  if (written.ok()) {
    if (metrics) metrics->dead_lettered(record.topic());
    last_dead_lettered = true;
    return;
  }
  logger()->error("{}; {} will be fetched again", written.error().to_string(),
                  record.location().to_string());
  rewind(record.location());
  const auto copy = [](std::optional<std::string_view> bytes) {
    return bytes ? std::optional<std::string>(*bytes) : std::nullopt;
  };
  Record failed = detail::RecordAccess::make(
      record.location(), copy(record.key()), copy(record.value()), record.headers(),
      record.timestamp_ms(), written.error(), registry.find(record.topic()));
  detail::RecordAccess::set_timing(failed, record.fetched_at(), record.decoded_at());
  record = std::move(failed);
}

// A failed record for offsets of `where`'s partition that the broker deleted
// before this consumer read them.
Record Consumer::Impl::loss_before(const RecordLocation& where,
                                   const detail::OffsetTracker::Missing& missing) {
  RecordLocation first{where.topic, where.partition, missing.from};
  Error error(Errc::records_missing, Stage::consume,
              "offsets " + std::to_string(missing.from) + ".." + std::to_string(missing.to) +
                  " were never delivered: the broker deleted them (retention) before this "
                  "consumer read them",
              first, KafkaError::offset_out_of_range);
  logger()->error("{}", error.to_string());
  return failed_record(std::move(first), std::move(error));
}

// The client went back by itself to `where`, before `offset`, which was read
// or committed already: what it fetched from there is dropped, and reading
// goes on from `offset`.
void Consumer::Impl::go_on_from(const RecordLocation& where, std::int64_t offset) {
  logger()->warn(
      "{} came again, though offset {} was read or committed before (librdkafka started the "
      "partition again, as it does when a fetch is answered \"offset out of range\"): reading "
      "goes on from offset {}",
      where.to_string(), offset, offset);
  rewind(RecordLocation{where.topic, where.partition, offset});
}

std::optional<Record> Consumer::Impl::next(std::chrono::milliseconds timeout) {
  if (closed) return std::nullopt;
  store_pending();
  last_dead_lettered = false;
  if (held) {
    std::optional<Record> record = std::move(held);
    held.reset();
    hand_out(*record);
    return record;
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
    auto fetched = fetch(slice);
    if (!fetched) {
      if (!deadline) {
        deadline = clock::now() + timeout;
        continue;
      }
      if (auto stuck = kafka->take_stuck()) {
        logger()->error("{}", stuck->to_string());
        return failed_record(RecordLocation{}, std::move(*stuck));
      }
      if (clock::now() >= *deadline) return std::nullopt;
      continue;
    }
    if (const auto& message = fetched->event) {
      RecordLocation& where = fetched->where;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        offsets.reached_end(where.topic, where.partition, where.offset);
        continue;
      }
      // librdkafka retries these itself (a fetch that timed out, a leader
      // that moved, a broker it reconnects to): a log line, not a record.
      if (recovers_by_itself(message->err) ||
          detail::kafka_severity(message->err) == Severity::retriable) {
        logger()->warn("consumer: {}; retrying", rd_kafka_message_errstr(message.get()));
        continue;
      }
      Error error = detail::kafka_error(message->err, Stage::consume,
                                        rd_kafka_message_errstr(message.get()), where);
      return failed_record(std::move(where), std::move(error));
    }
    Record& record = *fetched->record;
    offsets.fetched(record.topic(), record.partition());
    const auto arrival = offsets.arrived(record.location(), *kafka);
    if (arrival.resume_at) {
      go_on_from(record.location(), *arrival.resume_at);
      continue;
    }
    if (arrival.missing) {
      Record lost = loss_before(record.location(), *arrival.missing);
      held.emplace(std::move(record));
      return lost;
    }
    hand_out(record);
    return std::move(record);  // the one move from where it was decoded
  }
}

// The next message librdkafka has (an event, or a record decoded), in the
// order librdkafka gave them; nullopt if none came within `wait`.
std::optional<detail::Fetched> Consumer::Impl::fetch(std::chrono::milliseconds wait) {
  // What this thread decodes keeps to the caller's timeout, schema registry
  // look-ups included (with a moment for one round trip even at a timeout
  // of 0); the workers decode ahead with the registry client's own.
  decoder->set_lookup_deadline(std::chrono::steady_clock::now() +
                               std::max(wait, std::chrono::milliseconds(200)));
  if (!ahead) {
    detail::MessagePtr message = kafka->poll(wait);
    if (!message) return std::nullopt;
    RecordLocation where = location_of(*message);
    return decode_now(std::move(message), std::move(where), std::chrono::steady_clock::now());
  }
  // What librdkafka already holds is read ahead, within the bound: large
  // records go to the workers, small ones wait to be decoded in a batch.
  for (int step = 0; step < read_ahead_step && ahead->wants_more(); ++step) {
    detail::MessagePtr message = kafka->poll(std::chrono::milliseconds(0));
    if (!message) break;
    RecordLocation where = location_of(*message);
    ahead->add(std::move(message), std::move(where), std::chrono::steady_clock::now());
  }
  if (ahead->empty()) {
    detail::MessagePtr message = kafka->poll(wait);
    if (!message) return std::nullopt;
    RecordLocation where = location_of(*message);
    ahead->add(std::move(message), std::move(where), std::chrono::steady_clock::now());
  }
  auto taken = ahead->take(wait, *decoder);
  if (taken && !taken->record && taken->event->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    // A record left undecoded, past the bound (or its decoding threw, out
    // of memory): decoded here, as it is handed out.
    return decode_now(std::move(taken->event), std::move(taken->where), taken->fetched_at);
  }
  return taken;
}

// `message` as fetch() hands it on: a record decoded, an event as it is.
detail::Fetched Consumer::Impl::decode_now(detail::MessagePtr message, RecordLocation where,
                                           std::chrono::steady_clock::time_point fetched_at) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return detail::Fetched{std::move(where), fetched_at, std::move(message), std::nullopt};
  }
  Record record = decoder->decode(*message, std::move(where), fetched_at);
  return detail::Fetched{RecordLocation{}, fetched_at, nullptr, std::move(record)};
}

// `record` to the application: it counts as handled once the next is asked
// for; a failed decode goes to the dead-letter channel first.
void Consumer::Impl::hand_out(Record& record) {
  offsets.handed_out(record.location());
  if (grouped() && options.commit_mode == CommitMode::automatic) {
    // At most once: consumed as soon as the application has it.
    const Status stored = kafka->store(record.topic(), record.partition(), record.offset() + 1);
    if (!stored.ok()) logger()->warn("{}", stored.error().to_string());
  }
  route(record);
}

Consumer::Consumer(ChannelRegistry registry, ConsumerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {
  impl_->validate();
  if (impl_->options.signals == SignalHandling::stop) install_shutdown_handlers();
  impl_->kafka = std::make_unique<detail::KafkaConsumer>(impl_->options, *impl_);
  if (impl_->options.dead_letters) {
    impl_->letters = std::make_unique<detail::DeadLetterWriter>(impl_->options);
  }
  if (impl_->options.metrics) {
    const std::string client =
        impl_->grouped() ? impl_->options.group_id : impl_->options.client_id;
    impl_->metrics = std::make_unique<detail::ConsumerMetrics>(impl_->options.metrics, client);
    impl_->kafka->on_statistics([metrics = impl_->metrics.get()](std::string_view json) {
      metrics->kafka_statistics(json);
    });
    impl_->lag_collector = impl_->options.metrics->add_collector(
        [kafka = impl_->kafka.get(), metrics = impl_->metrics.get()](Metrics&) {
          metrics->lag(kafka->lag());
        });
  }
  impl_->decoder = std::make_unique<detail::RecordDecoder>(impl_->registry, impl_->options,
                                                           impl_->metrics.get());
  if (impl_->options.decode_threads > 0) {
    impl_->ahead = std::make_unique<detail::DecodeAhead>(
        impl_->options.decode_threads, impl_->options.decode_ahead_bytes, [impl = impl_.get()] {
          return std::make_unique<detail::RecordDecoder>(impl->registry, impl->options,
                                                         impl->metrics.get());
        });
  }
  if (impl_->grouped()) {
    impl_->kafka->subscribe();
    return;
  }
  for (const auto& [partition, start] : impl_->kafka->assign_all()) {
    impl_->offsets.placed(partition.topic, partition.partition, start);
  }
}

Consumer::~Consumer() {
  try {
    // Unwinding means the last record's handler may have failed: leave it
    // unhandled so it is delivered again.
    if (std::uncaught_exceptions() > 0) impl_->offsets.drop_pending();
    const Status closed = close();
    if (!closed.ok()) logger()->error("{}", closed.error().to_string());
  } catch (const std::exception& e) {
    logger()->error("consumer close failed: {}", e.what());
  }
  // close() has left the group (or given up) and the metrics have stopped
  // reading the client: it goes first, without leaving again, while what its
  // callbacks reach is still whole. (The collector is dropped here too in
  // case close() threw before it got that far.)
  if (impl_->lag_collector) {
    impl_->lag_collector.reset();
    impl_->metrics->forget_lag();
  }
  impl_->kafka.reset();
}

std::optional<Record> Consumer::poll(std::chrono::milliseconds timeout) {
  return impl_->next(timeout);
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

namespace {

Error no_group_to_commit() {
  return Error(Errc::invalid_argument, Stage::commit,
               "a consumer without a group has nowhere to commit offsets");
}

}  // namespace

Status Consumer::commit() {
  if (impl_->closed) return Error(Errc::closed, Stage::commit, "the consumer is closed");
  if (!impl_->grouped()) return no_group_to_commit();
  impl_->store_pending();
  return impl_->kafka->commit(std::nullopt, impl_->options.commit_timeout);
}

Status Consumer::commit(const Record& record) {
  if (impl_->closed) return Error(Errc::closed, Stage::commit, "the consumer is closed");
  if (!impl_->grouped()) return no_group_to_commit();
  impl_->offsets.drop_pending(record.location());
  return impl_->kafka->commit(record.location(), impl_->options.commit_timeout);
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
  // Nothing decoded ahead is handed out now; its messages go back to
  // librdkafka before the client goes.
  impl_->ahead.reset();
  // One deadline for the commit and for leaving the group (as it lets the
  // partitions go, librdkafka commits the stored offsets again): a broker
  // that went away must not keep the program from ending.
  impl_->closing_by = std::chrono::steady_clock::now() + impl_->options.close_timeout;
  Status committed;
  if (impl_->options.commit_mode != CommitMode::manual) {
    impl_->store_pending();
    // Half the time at most: leaving needs the rest.
    committed = impl_->kafka->commit_stored_within(impl_->commit_budget() / 2);
  }
  if (!impl_->kafka->leave_within(impl_->commit_budget())) {
    logger()->warn("consumer '{}' closed without the broker's acknowledgement after {} ms",
                   impl_->options.client_id, impl_->options.close_timeout.count());
  }
  // The metrics go before the client does: a closed consumer reads
  // nothing, so it has no lag to report.
  impl_->kafka->on_statistics({});
  if (impl_->lag_collector) {
    impl_->lag_collector.reset();
    impl_->metrics->forget_lag();
  }
  logger()->info("consumer '{}' {} closed", impl_->options.client_id,
                 impl_->grouped() ? "of group '" + impl_->options.group_id + "'" : "(no group)");
  return committed;
}

std::optional<std::int64_t> Consumer::caught_up(const TopicPartition& partition) const {
  return impl_->offsets.end_of(partition.topic, partition.partition);
}

std::vector<TopicPartition> Consumer::assignment() const {
  return impl_->kafka->assignment();
}

std::vector<PartitionLag> Consumer::lag() const {
  return impl_->kafka->lag();
}

Result<std::pair<std::int64_t, std::int64_t>> Consumer::watermarks(
    const TopicPartition& partition, std::chrono::milliseconds timeout) const {
  return impl_->kafka->watermarks(partition, timeout);
}

Result<std::int64_t> Consumer::committed(const TopicPartition& partition,
                                         std::chrono::milliseconds timeout) const {
  return impl_->kafka->committed(partition, timeout);
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
