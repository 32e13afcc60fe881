#include "corps_client.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <stdexcept>

#include "corps/consumer.hpp"
#include "corps/producer.hpp"

namespace corps::bench {

namespace {

// corps's defaults (the settings the raw baseline copies), encoding as the
// payload's values were encoded.
ProducerOptions producer_options(const std::string& brokers, const Payload& payload,
                                 unsigned compression_threads) {
  ProducerOptions options;
  options.compression_threads = compression_threads;
  options.brokers = brokers;
  options.client_id = "corps-bench-producer";
  options.handler = payload.handler_options();
  options.schema_registry.client = payload.schemas();  // framed payloads only
  return options;
}

class CorpsProducer final : public BenchProducer {
 public:
  CorpsProducer(const std::string& brokers, Payload& payload, std::string topic,
                unsigned compression_threads)
      : payload_(payload),
        topic_(std::move(topic)),
        producer_(payload.registry(topic_),
                  producer_options(brokers, payload, compression_threads)) {}

  void send(std::size_t sample, std::int32_t partition,
            std::optional<std::uint64_t> sequence) override {
    SendOptions options;
    options.partition = partition;
    if (sequence)
      options.headers.push_back({std::string(sequence_header), std::to_string(*sequence)});
    producer_.send(topic_, payload_.fresh(sample), std::move(options),
                   [this](const DeliveryReport& report) {
                     if (report.ok()) {
                       tally_.delivered(report.location().partition, report.location().offset);
                     } else {
                       tally_.failed(report.error().to_string());
                     }
                   });
  }

  void flush() override {
    producer_.flush(std::chrono::seconds(60)).throw_if_error();
    tally_.check();
  }

 private:
  Payload& payload_;
  std::string topic_;
  Producer producer_;
};

ConsumerOptions consumer_options(const std::string& brokers, const Properties& extra,
                                 const std::string& topic, const std::vector<std::int64_t>& start,
                                 unsigned decode_threads) {
  // Without a group a consumer starts every partition at one offset: the
  // benchmark writes the same number of records to each.
  if (std::adjacent_find(start.begin(), start.end(), std::not_equal_to<>()) != start.end()) {
    throw std::logic_error("corps consumer: partitions of '" + topic +
                           "' must all start at the same offset");
  }
  ConsumerOptions options;
  options.brokers = brokers;
  options.group_id = "";  // no group: no ~3 s join on the embedded broker
  options.client_id = "corps-bench-consumer";
  options.channels = {topic};
  options.start_offset = start.empty() ? 0 : start.front();
  options.signals = SignalHandling::ignore;  // Ctrl-C ends the benchmark, not a loop
  options.properties = extra;
  options.decode_threads = decode_threads;
  return options;
}

class CorpsConsumer final : public BenchConsumer {
 public:
  CorpsConsumer(const std::string& brokers, const Properties& extra, const Payload& payload,
                const std::string& topic, const std::vector<std::int64_t>& start,
                ReadSequence read_sequence, unsigned decode_threads)
      : read_sequence_(read_sequence),
        consumer_(payload.registry(topic),
                  consumer_options(brokers, extra, topic, start, decode_threads)) {}

  std::optional<Received> poll(std::chrono::milliseconds timeout) override {
    auto record = consumer_.poll(timeout);
    if (!record) return std::nullopt;
    if (!record->ok()) throw std::runtime_error("corps consume: " + record->error().to_string());
    Received received{record->partition(), record->offset(), record->value()->size(),
                      std::nullopt,        std::nullopt,     std::nullopt};
    if (read_sequence_ == ReadSequence::yes) {
      const auto ns = [](std::chrono::steady_clock::time_point at) {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
      };
      received.fetched_ns = ns(record->fetched_at());
      received.decoded_ns = ns(record->decoded_at());
      if (const auto* header = find_header(record->headers(), sequence_header);
          header != nullptr && header->value) {
        std::uint64_t sequence = 0;
        const auto& digits = *header->value;
        if (std::from_chars(digits.data(), digits.data() + digits.size(), sequence).ec ==
            std::errc{})
          received.sequence = sequence;
      }
    }
    return received;
  }

 private:
  ReadSequence read_sequence_;
  Consumer consumer_;
};

class CorpsClient final : public Client {
 public:
  CorpsClient(std::string brokers, Properties consumer_properties, unsigned compression_threads,
              unsigned decode_threads)
      : brokers_(std::move(brokers)),
        consumer_properties_(std::move(consumer_properties)),
        compression_threads_(compression_threads),
        decode_threads_(decode_threads) {}

  std::string name() const override { return "corps"; }

  std::unique_ptr<BenchProducer> producer(Payload& payload, const std::string& topic) override {
    return std::make_unique<CorpsProducer>(brokers_, payload, topic, compression_threads_);
  }

  std::unique_ptr<BenchConsumer> consumer(const Payload& payload, const std::string& topic,
                                          const std::vector<std::int64_t>& start,
                                          ReadSequence read_sequence) override {
    return std::make_unique<CorpsConsumer>(brokers_, consumer_properties_, payload, topic, start,
                                           read_sequence, decode_threads_);
  }

 private:
  std::string brokers_;
  Properties consumer_properties_;
  unsigned compression_threads_;
  unsigned decode_threads_;
};

}  // namespace

std::unique_ptr<Client> make_corps_client(std::string brokers, Properties consumer_properties,
                                          unsigned compression_threads, unsigned decode_threads) {
  return std::make_unique<CorpsClient>(std::move(brokers), std::move(consumer_properties),
                                       compression_threads, decode_threads);
}

}  // namespace corps::bench
