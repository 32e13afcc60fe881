#include "corps/metadata.hpp"

#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <random>

#include "corps/error.hpp"
#include "corps/trace_context.hpp"

namespace corps {

namespace pb = google::protobuf;

namespace {

// MessageCorps's messageData field numbers.
enum MetadataField : int {
  timestamp_field = 1,
  environment_field = 2,
  sending_service_field = 3,
  uuid_field = 4,
  iso_date_field = 5,
  offset_field = 6,
  partition_field = 7,
  trace_id_field = 8,
};

constexpr char hex_digits[] = "0123456789abcdef";

// Writes `value`'s low `digits` hex digits at `out`, lowest last. Ids are
// written into a buffer and assigned once: this runs for every record sent.
char* write_hex(char* out, std::uint64_t value, int digits) noexcept {
  for (int i = digits - 1; i >= 0; --i, value >>= 4) out[i] = hex_digits[value & 0xF];
  return out + digits;
}

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

}  // namespace

proto::Environment parse_environment(std::string_view name) {
  std::string upper(name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  proto::Environment value{};
  if (!proto::Environment_Parse(upper, &value)) {
    throw Exception(Error(Errc::invalid_argument, Stage::config,
                          "unknown environment '" + std::string(name) +
                              "'; expected PRODUCTION, DEVELOPMENT, STAGING or "
                              "UNKNOWN_ENVIRONMENT"));
  }
  return value;
}

MetadataDefaults MetadataDefaults::from_environment() {
  MetadataDefaults defaults;
  defaults.environment = parse_environment(env_or("ENVIRONMENT", "DEVELOPMENT"));
  defaults.sending_service = env_or("LOG_TAG_SERVICE", "NOTSET");
  return defaults;
}

struct MetadataStamper::State {
  explicit State(MetadataDefaults d) : defaults(std::move(d)), random(std::random_device{}()) {}

  MetadataDefaults defaults;
  std::mt19937_64 random;
  // "YYYY-MM-DDTHH:MM:SS" of cached_second; formatting the date once a
  // second instead of per record.
  std::int64_t cached_second = -1;
  std::string cached_date;
  // What a metadata type other than corps's own was stamped with.
  proto::MessageData foreign;

  // A version-7 UUID: 48 bits of Unix milliseconds, then random bits, so ids
  // sort by creation time and need no lock (unlike version 1).
  void uuid_v7(std::string& out, std::int64_t unix_ms) {
    const std::uint64_t high =
        (static_cast<std::uint64_t>(unix_ms) << 16) | 0x7000 | (random() & 0x0FFF);
    const std::uint64_t low = (random() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
    std::array<char, 36> text;
    char* at = write_hex(text.data(), high >> 32, 8);
    *at++ = '-';
    at = write_hex(at, high >> 16, 4);
    *at++ = '-';
    at = write_hex(at, high, 4);
    *at++ = '-';
    at = write_hex(at, low >> 48, 4);
    *at++ = '-';
    write_hex(at, low, 12);
    out.assign(text.data(), text.size());
  }

  void trace_id(std::string& out) {
    std::array<char, 32> text;
    write_hex(write_hex(text.data(), random(), 16), random(), 16);
    out.assign(text.data(), text.size());
  }

  // As Python's datetime.now(timezone.utc).isoformat():
  // 2026-11-22T01:54:59.123456+00:00
  void iso_date(std::string& out, std::int64_t unix_us) {
    const std::int64_t second = unix_us / 1'000'000;
    if (second != cached_second) {
      const std::time_t t = static_cast<std::time_t>(second);
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::array<char, 32> buf{};
      const auto n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
      cached_date.assign(buf.data(), n);
      cached_second = second;
    }
    auto micros = static_cast<std::uint32_t>(unix_us % 1'000'000);
    out.clear();
    out.reserve(32);
    out += cached_date;
    out += '.';
    char digits[6];
    for (int i = 5; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + micros % 10);
      micros /= 10;
    }
    out.append(digits, 6);
    out += "+00:00";
  }
};

MetadataStamper::MetadataStamper(MetadataDefaults defaults)
    : state_(std::make_unique<State>(std::move(defaults))) {}
MetadataStamper::~MetadataStamper() = default;
MetadataStamper::MetadataStamper(MetadataStamper&&) noexcept = default;
MetadataStamper& MetadataStamper::operator=(MetadataStamper&&) noexcept = default;

const MetadataDefaults& MetadataStamper::defaults() const noexcept {
  return state_->defaults;
}

const proto::MessageData& MetadataStamper::stamp(proto::MessageData& metadata) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  metadata.set_timestamp(static_cast<double>(unix_us) / 1e6);
  metadata.set_environment(state_->defaults.environment);
  metadata.set_sending_service(state_->defaults.sending_service);
  state_->uuid_v7(*metadata.mutable_uuid(), unix_us / 1000);
  state_->iso_date(*metadata.mutable_iso_date(), unix_us);
  if (metadata.trace_id().empty()) {
    if (const TraceContext* continued = current_trace()) {
      metadata.set_trace_id(continued->trace_id);
    } else {
      state_->trace_id(*metadata.mutable_trace_id());
    }
  }
  return metadata;
}

const proto::MessageData& MetadataStamper::stamp(pb::Message& message,
                                                 const pb::FieldDescriptor* field) {
  const auto* reflection = message.GetReflection();
  pb::Message* metadata = reflection->MutableMessage(&message, field);
  if (auto* generated = dynamic_cast<proto::MessageData*>(metadata)) return stamp(*generated);
  // A dynamic or foreign metadata type of the same shape: go by field number.
  proto::MessageData& stamped = state_->foreign;
  stamped.Clear();
  const auto* md_type = metadata->GetDescriptor();
  const auto* md_reflection = metadata->GetReflection();
  stamped.set_trace_id(
      md_reflection->GetString(*metadata, md_type->FindFieldByNumber(trace_id_field)));
  stamp(stamped);
  md_reflection->SetDouble(metadata, md_type->FindFieldByNumber(timestamp_field),
                           stamped.timestamp());
  md_reflection->SetEnumValue(metadata, md_type->FindFieldByNumber(environment_field),
                              stamped.environment());
  md_reflection->SetString(metadata, md_type->FindFieldByNumber(sending_service_field),
                           stamped.sending_service());
  md_reflection->SetString(metadata, md_type->FindFieldByNumber(uuid_field), stamped.uuid());
  md_reflection->SetString(metadata, md_type->FindFieldByNumber(iso_date_field),
                           stamped.iso_date());
  md_reflection->SetString(metadata, md_type->FindFieldByNumber(trace_id_field),
                           stamped.trace_id());
  return stamped;
}

void record_position(pb::Message& message, const pb::FieldDescriptor* field, std::int64_t partition,
                     std::int64_t offset) {
  pb::Message* metadata = message.GetReflection()->MutableMessage(&message, field);
  if (auto* generated = dynamic_cast<proto::MessageData*>(metadata)) {
    generated->set_offset(offset);
    generated->set_partition(partition);
    return;
  }
  const auto* md_type = metadata->GetDescriptor();
  const auto* md_reflection = metadata->GetReflection();
  md_reflection->SetInt64(metadata, md_type->FindFieldByNumber(offset_field), offset);
  md_reflection->SetInt64(metadata, md_type->FindFieldByNumber(partition_field), partition);
}

void fill_trace_id(pb::Message& message, const pb::FieldDescriptor* field,
                   std::string_view trace_id) {
  pb::Message* metadata = message.GetReflection()->MutableMessage(&message, field);
  if (auto* generated = dynamic_cast<proto::MessageData*>(metadata)) {
    if (generated->trace_id().empty()) generated->set_trace_id(std::string(trace_id));
    return;
  }
  const auto* trace_field = metadata->GetDescriptor()->FindFieldByNumber(trace_id_field);
  const auto* md_reflection = metadata->GetReflection();
  if (md_reflection->GetString(*metadata, trace_field).empty()) {
    md_reflection->SetString(metadata, trace_field, std::string(trace_id));
  }
}

void complete_metadata(pb::Message& message, const pb::FieldDescriptor* field,
                       std::int64_t partition, std::int64_t offset, std::string_view traceparent,
                       const pb::Reflection* reflection) {
  if (reflection == nullptr) reflection = message.GetReflection();
  pb::Message* metadata = reflection->MutableMessage(&message, field);
  auto* generated = dynamic_cast<proto::MessageData*>(metadata);
  if (generated == nullptr) {  // a foreign metadata type: by field number
    if (!traceparent.empty()) {
      const auto trace_id = traceparent_trace_id(traceparent);
      if (!trace_id.empty()) fill_trace_id(message, field, trace_id);
    }
    record_position(message, field, partition, offset);
    return;
  }
  generated->set_offset(offset);
  generated->set_partition(partition);
  // The header is read only when the metadata lacks a trace id: corps's
  // own records always carry one.
  if (!traceparent.empty() && generated->trace_id().empty()) {
    const auto trace_id = traceparent_trace_id(traceparent);
    if (!trace_id.empty()) generated->set_trace_id(std::string(trace_id));
  }
}

proto::MessageData read_metadata(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Message& metadata = message.GetReflection()->GetMessage(message, field);
  if (const auto* generated = dynamic_cast<const proto::MessageData*>(&metadata)) return *generated;
  // Same field numbers and types: the bytes of one parse as the other.
  proto::MessageData copy;
  copy.ParseFromString(metadata.SerializeAsString());
  return copy;
}

}  // namespace corps
