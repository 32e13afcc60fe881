#include "detail/dead_letter_writer.hpp"

#include <cstdlib>

#include "corps/logging.hpp"
#include "detail/kafka_client.hpp"

namespace corps::detail {

DeadLetterWriter::DeadLetterWriter(const ConsumerOptions& consumer)
    : options_(consumer.dead_letters.value()), group_(consumer.group_id) {
  ChannelRegistry registry;
  (void)registry.bind<proto::DeadLetter>(options_.channel);
  ProducerOptions producer;
  producer.brokers = consumer.brokers;
  producer.client_id = consumer.client_id + "-dead-letters";
  producer.delivery_timeout = options_.write_timeout;
  producer.linger = std::chrono::milliseconds(0);
  producer.connect_timeout = std::chrono::milliseconds(0);  // the consumer just checked
  // A letter above this is written truncated (write).
  producer.max_record_bytes = options_.max_letter_bytes;
  // The consumer's own connection and security settings, so the letters
  // reach the cluster the records came from.
  producer.properties = producer_properties_of(consumer.properties);
  for (const auto& [name, value] : options_.producer_properties) producer.properties[name] = value;
  producer_ = std::make_unique<Producer>(std::move(registry), producer);
  service_ = options_.service;
  if (service_.empty()) {
    const char* service = std::getenv("LOG_TAG_SERVICE");
    service_ = service != nullptr ? service : consumer.client_id;
  }
}

DeliveryReport DeadLetterWriter::send(const Record& record, proto::DeadLetter& letter) {
  // Keyed by origin, so the letters of one partition stay in order.
  SendOptions send;
  send.key = record.topic() + "[" + std::to_string(record.partition()) + "]";
  auto report = producer_->send(options_.channel, letter, std::move(send));
  if (report.wait_for(options_.write_timeout + std::chrono::seconds(1)) !=
      std::future_status::ready) {
    return DeliveryReport{
        RecordLocation{options_.channel, -1, -1},
        Error(Errc::timed_out, Stage::dead_letter,
              "no acknowledgement for the dead letter on '" + options_.channel + "' within " +
                  std::to_string(options_.write_timeout.count()) + " ms",
              record.location()),
        Persistence::possibly_persisted};
  }
  return report.get();
}

Status DeadLetterWriter::write(const Record& record, const Error& error, int attempts) {
  auto letter = make_dead_letter(record, error, attempts, group_, service_);
  if (letter.ByteSizeLong() > options_.max_letter_bytes) letter = truncate_dead_letter(letter);
  DeliveryReport delivered = send(record, letter);
  if (!delivered.ok() && delivered.error().code() == Errc::too_large && !letter.truncated()) {
    logger()->warn("the dead letter for {} is too large for '{}' ({}); writing it truncated",
                   record.location().to_string(), options_.channel, delivered.error().message());
    letter = truncate_dead_letter(std::move(letter));
    delivered = send(record, letter);
  }
  if (!delivered.ok()) {
    Error failed(
        delivered.error().code(), Stage::dead_letter,
        "dead letter not written to '" + options_.channel + "': " + delivered.error().message(),
        record.location(), delivered.error().kafka_error());
    failed.set_severity(delivered.error().severity());
    return failed;
  }
  logger()->warn("{} went to the dead-letter channel as {}{} after {} attempt(s): {}",
                 record.location().to_string(), delivered.location().to_string(),
                 letter.truncated() ? " (truncated: key, headers and value left out)" : "",
                 attempts, error.to_string());
  return {};
}

}  // namespace corps::detail
