#include "detail/record_decoder.hpp"

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "detail/client_metrics.hpp"
#include "detail/header_limits.hpp"
#include "detail/record_access.hpp"

namespace corps::detail {

namespace {

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
  if (auto breach = header_limit_breach(count, bytes, limits)) {
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

}  // namespace

RecordDecoder::RecordDecoder(const ChannelRegistry& registry, const ConsumerOptions& options,
                             ConsumerMetrics* metrics)
    : registry_(registry),
      limits_(options.loader),
      metrics_(metrics),
      loader_(registry, options.loader, options.schema_registry) {}

Record RecordDecoder::decode(const rd_kafka_message_t& message, RecordLocation where,
                             std::chrono::steady_clock::time_point fetched_at,
                             std::size_t* parsed_bytes) {
  std::optional<std::string> refused;
  Headers headers = read_headers(&message, limits_, refused);
  const char* value = static_cast<const char*>(message.payload);
  RawRecord raw{where.topic, where.partition, where.offset,
                value,       message.len,     headers.empty() ? nullptr : &headers};
  // The decode's own time is counted only for the metrics: a clock read
  // per record costs.
  const auto started =
      metrics_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  LoadFacts facts;
  auto decoded = refused ? Result<std::unique_ptr<google::protobuf::Message>>(
                               Error(Errc::too_large, Stage::headers, *refused, where))
                         : loader_.load(raw, facts);
  if (parsed_bytes != nullptr) *parsed_bytes = decoded.ok() ? facts.parsed_bytes : 0;
  const auto finished = std::chrono::steady_clock::now();
  if (metrics_) {
    metrics_->decoded(where.topic, where.partition,
                      std::chrono::duration<double>(finished - started).count());
    if (!decoded.ok()) metrics_->decode_failed(where.topic, decoded.error().stage());
  }
  std::optional<std::string> key;
  if (message.key != nullptr) key.emplace(static_cast<const char*>(message.key), message.key_len);
  std::optional<std::string> value_copy;
  if (value != nullptr) value_copy.emplace(value, message.len);
  rd_kafka_timestamp_type_t kind{};
  const std::int64_t timestamp = rd_kafka_message_timestamp(&message, &kind);
  // The loader made the message from its binding's prototype (or a schema
  // registry's type, when there is none): no need to ask the message.
  const ChannelBinding* binding = decoded.ok() ? facts.binding : nullptr;
  std::shared_ptr<const void> type_owner;
  if (decoded.ok() && binding == nullptr) type_owner = loader_.type_owner(**decoded);
  Record record = RecordAccess::make(std::move(where), std::move(key), std::move(value_copy),
                                     std::move(headers), timestamp, std::move(decoded), binding,
                                     std::move(type_owner), TypeOf::binding);
  RecordAccess::set_timing(record, fetched_at, finished);
  return record;
}

}  // namespace corps::detail
