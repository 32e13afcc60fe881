#include "corps/error.hpp"

#include <librdkafka/rdkafka.h>

#include <utility>

namespace corps {

namespace {

Severity implied_severity(Errc code) noexcept {
  switch (code) {
    case Errc::broker_unreachable:
    case Errc::registry_unreachable:
    case Errc::timed_out:
    case Errc::queue_full: return Severity::retriable;
    case Errc::fatal: return Severity::fatal;
    case Errc::invalid_argument:
    case Errc::unknown_channel:
    case Errc::type_mismatch:
    case Errc::no_metadata_field:
    case Errc::missing_metadata:
    case Errc::empty_value:
    case Errc::corrupt_data:
    case Errc::truncated_data:
    case Errc::trailing_data:
    case Errc::too_large:
    case Errc::parse_failed:
    // A bare kafka_error is permanent; the clients classify Kafka codes
    // (set_severity) when they build the error.
    case Errc::kafka_error:
    case Errc::handler_failed:
    case Errc::closed:
    case Errc::unsupported:
    case Errc::records_missing:
    case Errc::schema_not_found:
    case Errc::invalid_schema:
    case Errc::incompatible_schema: return Severity::permanent;
  }
  return Severity::permanent;
}

}  // namespace

std::string RecordLocation::to_string() const {
  std::string out = topic;
  out += '[';
  out += std::to_string(partition);
  out += "]@";
  out += std::to_string(offset);
  return out;
}

Error::Error(Errc code, Stage stage, std::string message, std::optional<RecordLocation> location,
             KafkaError kafka_error)
    : code_(code),
      stage_(stage),
      message_(std::move(message)),
      location_(std::move(location)),
      kafka_error_(kafka_error),
      severity_(implied_severity(code)) {}

std::string kafka_error_name(KafkaError error) {
  return rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(error));
}

std::string Error::to_string() const {
  std::string out(corps::to_string(stage_));
  out += " error (";
  out += corps::to_string(code_);
  out += ')';
  if (location_) {
    out += " at ";
    out += location_->to_string();
  }
  out += ": ";
  out += message_;
  return out;
}

Exception::Exception(Error error)
    : std::runtime_error(error.to_string()), error_(std::move(error)) {}

std::string_view to_string(Stage stage) noexcept {
  switch (stage) {
    case Stage::config: return "config";
    case Stage::bind: return "bind";
    case Stage::encode: return "encode";
    case Stage::produce: return "produce";
    case Stage::delivery: return "delivery";
    case Stage::connect: return "connect";
    case Stage::subscribe: return "subscribe";
    case Stage::consume: return "consume";
    case Stage::headers: return "headers";
    case Stage::framing: return "framing";
    case Stage::schema: return "schema";
    case Stage::decompress: return "decompress";
    case Stage::parse: return "parse";
    case Stage::type: return "type";
    case Stage::metadata: return "metadata";
    case Stage::handler: return "handler";
    case Stage::commit: return "commit";
    case Stage::admin: return "admin";
    case Stage::dead_letter: return "dead_letter";
    case Stage::replay: return "replay";
  }
  return "unknown";
}

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::unknown_channel: return "unknown_channel";
    case Errc::type_mismatch: return "type_mismatch";
    case Errc::no_metadata_field: return "no_metadata_field";
    case Errc::missing_metadata: return "missing_metadata";
    case Errc::empty_value: return "empty_value";
    case Errc::corrupt_data: return "corrupt_data";
    case Errc::truncated_data: return "truncated_data";
    case Errc::trailing_data: return "trailing_data";
    case Errc::too_large: return "too_large";
    case Errc::parse_failed: return "parse_failed";
    case Errc::broker_unreachable: return "broker_unreachable";
    case Errc::kafka_error: return "kafka_error";
    case Errc::timed_out: return "timed_out";
    case Errc::queue_full: return "queue_full";
    case Errc::handler_failed: return "handler_failed";
    case Errc::closed: return "closed";
    case Errc::unsupported: return "unsupported";
    case Errc::records_missing: return "records_missing";
    case Errc::fatal: return "fatal";
    case Errc::registry_unreachable: return "registry_unreachable";
    case Errc::schema_not_found: return "schema_not_found";
    case Errc::invalid_schema: return "invalid_schema";
    case Errc::incompatible_schema: return "incompatible_schema";
  }
  return "unknown";
}

std::string_view to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::retriable: return "retriable";
    case Severity::permanent: return "permanent";
    case Severity::fatal: return "fatal";
  }
  return "unknown";
}

}  // namespace corps
