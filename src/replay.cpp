#include "corps/replay.hpp"

#include <future>
#include <map>

#include "corps/consumer.hpp"
#include "corps/logging.hpp"
#include "corps/producer.hpp"

namespace corps {

namespace {

// A letter's record, ready to send again.
SendOptions resend_options(const proto::DeadLetter& letter, const RecordLocation& from) {
  SendOptions send;
  if (letter.has_key()) send.key = letter.key();
  for (const auto& header : letter.headers()) {
    Header kept{header.name(), std::nullopt};
    if (!header.null_value()) kept.value = header.value();
    send.headers.push_back(std::move(kept));
  }
  send.headers.push_back({std::string(replayed_from_header), from.to_string()});
  return send;
}

Error replay_error(Errc code, std::string message,
                   std::optional<RecordLocation> where = std::nullopt) {
  return Error(code, Stage::replay, std::move(message), std::move(where));
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
  Consumer reader(letters, reading);

  // Where to stop: each partition's end as of now.
  std::map<std::int32_t, std::int64_t> end_of;
  for (const auto& partition : reader.assignment()) {
    auto marks = reader.watermarks(partition, std::chrono::seconds(10));
    if (!marks.ok()) return marks.error();
    const std::int64_t start = options.from_offset.value_or(marks->first);
    if (marks->second > std::max(start, marks->first)) end_of[partition.partition] = marks->second;
  }

  ProducerOptions sending;
  sending.brokers = options.brokers;
  sending.client_id = "corps-replay";
  // A letter holds a record as large as its channel allowed.
  sending.max_record_bytes = std::size_t{64} << 20;
  Producer producer(ChannelRegistry{}, sending);

  ReplayReport report;
  std::vector<std::pair<RecordLocation, std::future<DeliveryReport>>> sent;
  while (!end_of.empty() && report.read < options.max_letters + report.skipped) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return replay_error(Errc::timed_out, "read " + std::to_string(report.read) +
                                               " letter(s) from '" + options.dead_letter_channel +
                                               "' but not its end within " +
                                               std::to_string(options.timeout.count()) + " ms");
    }
    auto record = reader.poll(std::chrono::milliseconds(500));
    if (!record) continue;
    const RecordLocation from = record->location();
    if (const auto end = end_of.find(from.partition);
        end != end_of.end() && from.offset + 1 >= end->second) {
      end_of.erase(end);
    }
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
    const std::string& to = options.to_channel.empty() ? letter.topic() : options.to_channel;
    std::optional<std::string_view> value;
    if (!letter.null_value()) value = letter.value();
    sent.emplace_back(from, producer.send_raw(to, value, resend_options(letter, from)));
  }
  for (auto& [from, future] : sent) {
    const auto left = std::max(deadline - std::chrono::steady_clock::now(),
                               std::chrono::steady_clock::duration(std::chrono::seconds(1)));
    if (future.wait_for(left) != std::future_status::ready) {
      report.failures.push_back(
          replay_error(Errc::timed_out, "the replayed record was not acknowledged in time", from));
      continue;
    }
    const DeliveryReport delivered = future.get();
    if (delivered.ok()) {
      ++report.replayed;
    } else {
      report.failures.push_back(replay_error(
          delivered.error->code(), "not replayed: " + delivered.error->to_string(), from));
    }
  }
  logger()->info("replayed {} of {} dead letter(s) from '{}' ({} skipped, {} failed)",
                 report.replayed, report.read, options.dead_letter_channel, report.skipped,
                 report.failures.size());
  return report;
}

}  // namespace corps
