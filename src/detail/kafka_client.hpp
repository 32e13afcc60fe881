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
