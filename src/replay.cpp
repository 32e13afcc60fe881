#include "corps/replay.hpp"

#include <algorithm>
#include <future>
#include <map>

#include "corps/consumer.hpp"
#include "corps/logging.hpp"
#include "corps/producer.hpp"
#include "detail/kafka_client.hpp"

namespace corps {

namespace {

// A letter's record, ready to send again: its key and headers as they were,
// to the partition it came from when it goes back to its own channel.
SendOptions resend_options(const proto::DeadLetter& letter, const RecordLocation& from,
                           bool own_channel) {
  SendOptions send;
  if (letter.has_key()) send.key = letter.key();
  for (const auto& header : letter.headers()) {
    Header kept{std::string(header_name(header)), std::nullopt};
    if (!header.null_value()) kept.value = header.value();
    send.headers.push_back(std::move(kept));
  }
  send.headers.push_back({std::string(replayed_from_header), from.to_string()});
  if (own_channel) send.partition = letter.partition();
  return send;
}

Error replay_error(Errc code, std::string message,
                   std::optional<RecordLocation> where = std::nullopt) {
  return Error(code, Stage::replay, std::move(message), std::move(where));
}

std::chrono::milliseconds left_until(std::chrono::steady_clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()));
}

}  // namespace

Result<ReplayReport> replay_dead_letters(const ReplayOptions& options) {
  if (options.dead_letter_channel.empty()) {
    return replay_error(Errc::invalid_argument, "no dead-letter channel named");
  }
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  ChannelRegistry letters;
  (void)letters.bind<proto::DeadLetter>(options.dead_letter_channel);
  ConsumerOptions reading;
  reading.brokers = options.brokers;
  reading.group_id = "";  // a replay reads the channel itself; it commits nothing
  reading.client_id = "corps-replay";
  reading.channels = {options.dead_letter_channel};
  reading.start_offset = options.from_offset;
  reading.signals = SignalHandling::ignore;
  reading.properties = options.properties;
  Consumer reader(letters, reading);

  // Where to stop: each partition's end as of now. Only partitions with
  // letters between the start and that end are read; a record past a
  // partition's end (a letter written meanwhile) or of a partition with
  // nothing to read (one whose start lay past its end is read from its
  // beginning) is not replayed.
  std::map<std::int32_t, std::int64_t> end_of;
  for (const auto& partition : reader.assignment()) {
    auto marks = reader.watermarks(partition, std::chrono::seconds(10));
    if (!marks.ok()) return marks.error();
    const std::int64_t start = options.from_offset.value_or(marks->first);
    if (marks->second > std::max(start, marks->first)) end_of[partition.partition] = marks->second;
  }
  const auto wanted = [&](const RecordLocation& from) {
    const auto end = end_of.find(from.partition);
    return end != end_of.end() && from.offset < end->second &&
           from.offset >= options.from_offset.value_or(0);
  };

  ProducerOptions sending;
  sending.brokers = options.brokers;
  sending.client_id = "corps-replay";
  // A letter holds a record as large as its channel allowed.
  sending.max_record_bytes = std::size_t{64} << 20;
  // Every record sent has its answer within this, and the producer's close
  // waits for them: each letter ends up replayed, not replayed, or
  // unconfirmed, never miscounted while its record is still on the way.
  sending.delivery_timeout = std::max(left_until(deadline), std::chrono::milliseconds(1000));
  sending.properties = detail::producer_properties_of(options.properties);

  ReplayReport report;
  std::vector<std::pair<RecordLocation, std::future<DeliveryReport>>> sent;
  {
    Producer producer(ChannelRegistry{}, sending);
    const auto done_with = [&](std::int32_t partition, std::int64_t reached) {
      const auto end = end_of.find(partition);
      if (end != end_of.end() && reached >= end->second) end_of.erase(end);
    };
    while (!end_of.empty() && report.read - report.skipped < options.max_letters) {
      if (std::chrono::steady_clock::now() >= deadline) {
        report.failures.push_back(replay_error(
            Errc::timed_out, "read " + std::to_string(report.read) + " letter(s) from '" +
                                 options.dead_letter_channel + "' but not its end within " +
                                 std::to_string(options.timeout.count()) + " ms"));
        break;
      }
      auto record = reader.poll(std::min(left_until(deadline), std::chrono::milliseconds(500)));
      if (!record) {
        // The end may lie past offsets that hold no letter (a transaction
        // marker, a compacted record): the consumer says when it got there.
        for (const auto& partition : reader.assignment()) {
          if (const auto reached = reader.caught_up(partition)) {
            done_with(partition.partition, *reached);
          }
        }
        continue;
      }
      const RecordLocation from = record->location();
      if (!wanted(from)) {
        done_with(from.partition, from.offset);
        continue;
      }
      done_with(from.partition, from.offset + 1);
      if (!record->ok()) {
        report.failures.push_back(record->error());
        continue;
      }
      ++report.read;
      const auto& letter = record->as<proto::DeadLetter>();
      if (!options.only_channel.empty() && letter.topic() != options.only_channel) {
        ++report.skipped;
        continue;
      }
      if (letter.truncated()) {
        report.failures.push_back(replay_error(
            Errc::invalid_argument,
            "the letter was truncated to fit its channel and holds no record (" +
                std::to_string(letter.value_size()) + " B value, SHA-256 " + letter.value_sha256() +
                "); the record is at " + letter.topic() + "[" + std::to_string(letter.partition()) +
                "]@" + std::to_string(letter.offset()) + " while the broker keeps it",
            from));
        continue;
      }
      const bool own_channel = options.to_channel.empty();
      const std::string& to = own_channel ? letter.topic() : options.to_channel;
      std::optional<std::string_view> value;
      if (!letter.null_value()) value = letter.value();
      sent.emplace_back(from,
                        producer.send_raw(to, value, resend_options(letter, from, own_channel)));
    }
    (void)producer.flush(left_until(deadline));
  }  // closing the producer settles every record it was given
  report.reached_end = end_of.empty() || report.read - report.skipped >= options.max_letters;
  for (auto& [from, future] : sent) {
    const DeliveryReport delivered = future.get();
    if (delivered.ok()) {
      ++report.replayed;
    } else if (delivered.persistence() == Persistence::not_persisted) {
      report.failures.push_back(replay_error(
          delivered.error().code(), "not replayed: " + delivered.error().to_string(), from));
    } else {
      ++report.unconfirmed;
      report.failures.push_back(replay_error(
          delivered.error().code(),
          "sent but not confirmed, so it may have been replayed (replaying it again may "
          "duplicate it): " +
              delivered.error().to_string(),
          from));
    }
  }
  logger()->info(
      "replayed {} of {} dead letter(s) from '{}' ({} skipped, {} failed, {} unconfirmed)",
      report.replayed, report.read, options.dead_letter_channel, report.skipped,
      report.failures.size() - report.unconfirmed, report.unconfirmed);
  return report;
}

}  // namespace corps
