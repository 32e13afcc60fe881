#include "raw_kafka.hpp"

#include <unistd.h>

#include <charconv>
#include <stdexcept>

#include "corps/headers.hpp"
#include "corps/trace_context.hpp"
#include "detail/rdkafka_handles.hpp"

namespace corps::bench {

namespace {

using detail::ConfPtr;
using detail::KafkaPtr;
using detail::MessagePtr;

// corps::Producer's defaults (src/producer.cpp), so that the settings are
// not what differs.
Properties producer_properties(const std::string& brokers) {
  return {
      {"bootstrap.servers", brokers},
      {"client.id", "raw-bench-producer"},
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"max.in.flight.requests.per.connection", "5"},
      {"compression.type", "none"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"message.timeout.ms", "30000"},
      {"reconnect.backoff.ms", "100"},
      {"reconnect.backoff.max.ms", "10000"},
      {"message.max.bytes", "1000000"},
      {"queue.buffering.max.kbytes", "262144"},
      {"queue.buffering.max.messages", "100000"},
  };
}

// corps::Consumer's settings without a group (src/consumer.cpp), then
// `extra`, as ConsumerOptions::properties are applied.
Properties consumer_properties(const std::string& brokers, const Properties& extra) {
  Properties properties{
      {"bootstrap.servers", brokers},
      {"client.id", "raw-bench-consumer"},
      // assign() needs a group id even though no group is joined.
      {"group.id", "raw-bench-no-group-" + std::to_string(::getpid())},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"reconnect.backoff.ms", "100"},
      {"reconnect.backoff.max.ms", "10000"},
  };
  for (const auto& [name, value] : extra) properties[name] = value;
  return properties;
}

ConfPtr make_conf(const Properties& properties) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error("librdkafka refused " + name + "=" + value + ": " + error);
    }
  }
  return conf;
}

KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf) {
  char error[512];
  KafkaPtr client(rd_kafka_new(type, conf.get(), error, sizeof error));
  if (!client) throw std::runtime_error(std::string("rd_kafka_new failed: ") + error);
  (void)conf.release();  // librdkafka owns it now, and only on success
  return client;
}

// As corps's constructors do, so that no timing includes the first connect.
void wait_for_broker(rd_kafka_t* client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  const auto err = rd_kafka_metadata(client, 0, nullptr, &metadata, 15'000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("no broker answered: ") + rd_kafka_err2str(err));
  rd_kafka_metadata_destroy(metadata);
}

class RawProducer final : public BenchProducer {
 public:
  RawProducer(const std::string& brokers, const Payload& payload, std::string topic)
      : payload_(payload), topic_(std::move(topic)) {
    auto conf = make_conf(producer_properties(brokers));
    rd_kafka_conf_set_opaque(conf.get(), &tally_);
    rd_kafka_conf_set_dr_msg_cb(conf.get(), &on_delivery);
    client_ = make_client(RD_KAFKA_PRODUCER, std::move(conf));
    wait_for_broker(client_.get());
  }

  void send(std::size_t sample, std::int32_t partition,
            std::optional<std::uint64_t> sequence) override {
    const std::string& value = payload_.value(sample);
    const std::string& type = payload_.type_name();
    for (;;) {
      detail::HeadersPtr headers(rd_kafka_headers_new(4));
      rd_kafka_header_add(headers.get(), type_header.data(),
                          static_cast<ssize_t>(type_header.size()), type.data(),
                          static_cast<ssize_t>(type.size()));
      // corps's W3C trace header, of the same length: its ids change per
      // record, its cost does not.
      static constexpr std::string_view traceparent =
          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      rd_kafka_header_add(headers.get(), traceparent_header.data(),
                          static_cast<ssize_t>(traceparent_header.size()), traceparent.data(),
                          static_cast<ssize_t>(traceparent.size()));
      const Codec value_codec = payload_.value_codec(sample);
      if (value_codec != Codec::zlib) {  // the headers corps would write
        const std::string_view codec = to_string(value_codec);
        rd_kafka_header_add(headers.get(), codec_header.data(),
                            static_cast<ssize_t>(codec_header.size()), codec.data(),
                            static_cast<ssize_t>(codec.size()));
      }
      if (sequence) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, *sequence).ptr;
        rd_kafka_header_add(headers.get(), sequence_header.data(),
                            static_cast<ssize_t>(sequence_header.size()), digits, end - digits);
      }
      // librdkafka's V_ macros cast their arguments unparenthesised.
      char* bytes = const_cast<char*>(value.data());
      const std::size_t size = value.size();
      const auto err = rd_kafka_producev(
          client_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_VALUE(bytes, size), RD_KAFKA_V_HEADERS(headers.get()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        (void)headers.release();          // librdkafka owns them now
        rd_kafka_poll(client_.get(), 0);  // serve delivery reports as they come
        return;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        tally_.failed(std::string("produce refused: ") + rd_kafka_err2str(err));
        return;
      }
      rd_kafka_poll(client_.get(), 10);  // a full queue: wait for room
    }
  }

  void flush() override {
    const auto err = rd_kafka_flush(client_.get(), 60'000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("raw flush: ") + rd_kafka_err2str(err));
    tally_.check();
  }

 private:
  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto& tally = *static_cast<DeliveryTally*>(opaque);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      tally.delivered(message->partition, message->offset);
    } else {
      tally.failed(rd_kafka_err2str(message->err));
    }
  }

  const Payload& payload_;
  std::string topic_;
  KafkaPtr client_;
};

class RawConsumer final : public BenchConsumer {
 public:
  RawConsumer(const std::string& brokers, const Properties& extra, const std::string& topic,
              const std::vector<std::int64_t>& start, ReadSequence read_sequence)
      : read_sequence_(read_sequence) {
    client_ = make_client(RD_KAFKA_CONSUMER, make_conf(consumer_properties(brokers, extra)));
    rd_kafka_poll_set_consumer(client_.get());
    wait_for_broker(client_.get());
    detail::PartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(start.size())));
    for (std::size_t p = 0; p < start.size(); ++p) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), static_cast<std::int32_t>(p))
          ->offset = start[p];
    }
    const auto err = rd_kafka_assign(client_.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("raw assign: ") + rd_kafka_err2str(err));
  }

  ~RawConsumer() override { rd_kafka_consumer_close(client_.get()); }

  std::optional<Received> poll(std::chrono::milliseconds timeout) override {
    MessagePtr message(rd_kafka_consumer_poll(client_.get(), static_cast<int>(timeout.count())));
    if (!message) return std::nullopt;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(std::string("raw consume: ") +
                               rd_kafka_message_errstr(message.get()));
    Received received{message->partition, message->offset, message->len,
                      std::nullopt,       std::nullopt,    std::nullopt};
    if (read_sequence_ == ReadSequence::yes) received.sequence = sequence_of(message.get());
    return received;
  }

 private:
  static std::optional<std::uint64_t> sequence_of(rd_kafka_message_t* message) {
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return std::nullopt;
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_header_get_last(headers, sequence_header.data(), &value, &size) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::nullopt;
    }
    const char* digits = static_cast<const char*>(value);
    std::uint64_t sequence = 0;
    if (std::from_chars(digits, digits + size, sequence).ec != std::errc{}) return std::nullopt;
    return sequence;
  }

  ReadSequence read_sequence_;
  KafkaPtr client_;
};

class RawClient final : public Client {
 public:
  RawClient(std::string brokers, Properties consumer_properties)
      : brokers_(std::move(brokers)), consumer_properties_(std::move(consumer_properties)) {}

  std::string name() const override { return "raw librdkafka"; }

  std::unique_ptr<BenchProducer> producer(Payload& payload, const std::string& topic) override {
    return std::make_unique<RawProducer>(brokers_, payload, topic);
  }

  std::unique_ptr<BenchConsumer> consumer(const Payload&, const std::string& topic,
                                          const std::vector<std::int64_t>& start,
                                          ReadSequence read_sequence) override {
    return std::make_unique<RawConsumer>(brokers_, consumer_properties_, topic, start,
                                         read_sequence);
  }

 private:
  std::string brokers_;
  Properties consumer_properties_;
};

}  // namespace

std::unique_ptr<Client> make_raw_client(std::string brokers, Properties consumer_properties) {
  return std::make_unique<RawClient>(std::move(brokers), std::move(consumer_properties));
}

}  // namespace corps::bench
