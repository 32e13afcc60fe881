// Building librdkafka clients: configuration, creation, reachability, and
// translating librdkafka errors into corps::Error.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "corps/error.hpp"
#include "detail/rdkafka_handles.hpp"

namespace corps::detail {

using Properties = std::map<std::string, std::string>;

/// A configuration holding `properties`, with corps's log callback.
/// Throws corps::Exception (Stage::config) naming the property librdkafka
/// refused and why.
ConfPtr make_conf(const Properties& properties);

/// The whole-number property `name`, or 0 if unset. Throws corps::Exception
/// (Stage::config) if it is not a number.
std::size_t size_property(const Properties& properties, const std::string& name);

/// A client built from `conf`, which it consumes only on success.
/// Throws corps::Exception (Stage::config).
KafkaPtr make_client(rd_kafka_type_t type, ConfPtr conf);

/// Waits until a broker answers a metadata request, retrying with
/// exponential backoff (100 ms doubling to 2 s) for up to `timeout`.
/// Throws corps::Exception (Stage::connect, broker_unreachable).
void wait_for_brokers(rd_kafka_t* client, std::string_view brokers,
                      std::chrono::milliseconds timeout);

/// Where `topic` [`partition`] starts and ends (its low and high
/// watermarks), asked of its leader, within `timeout`.
///
/// Not rd_kafka_query_watermark_offsets: before librdkafka 2.3.0 it can wait
/// past its timeout, forever, on a leader that went down (librdkafka #2588,
/// seen on Kafka with a leader killed). This asks through
/// rd_kafka_offsets_for_times (ListOffsets for the earliest and the latest),
/// which keeps its timeout, and asks again with fresh metadata, for the
/// partition's new leader, until one answers or the time is up
/// (RD_KAFKA_RESP_ERR__TIMED_OUT).
rd_kafka_resp_err_t query_watermarks(rd_kafka_t* client, const std::string& topic,
                                     std::int32_t partition, std::int64_t& low,
                                     std::int64_t& high, std::chrono::milliseconds timeout);

/// Whether a librdkafka error code may go away by retrying, or leaves the
/// client unusable.
Severity kafka_severity(rd_kafka_resp_err_t err) noexcept;

/// corps's name for a librdkafka error code: the same number.
inline KafkaError kafka_error_of(rd_kafka_resp_err_t err) noexcept {
  return static_cast<KafkaError>(err);
}

/// A corps error for a librdkafka error code, with its severity.
Error kafka_error(rd_kafka_resp_err_t err, Stage stage, std::string context,
                  std::optional<RecordLocation> location = std::nullopt);

/// The raw properties a consumer was given, for a producer that works
/// beside it (dead letters, replay): everything but the consumer-only
/// properties, so connection and security settings carry over.
Properties producer_properties_of(const Properties& consumer_properties);

/// True if `bootstrap` is the address of an EmbeddedBroker this process
/// runs (broker.cpp keeps them).
bool runs_embedded_broker(std::string_view bootstrap);

/// rd_kafka_destroy_flags, and forgets what corps kept of the client (its
/// last connection failure). KafkaPtr destroys through it with no flags.
void destroy_client(rd_kafka_t* client, int flags) noexcept;

/// A non-empty, validated bootstrap list; throws corps::Exception otherwise.
void check_brokers(std::string_view brokers, std::string_view client_kind);

}  // namespace corps::detail
