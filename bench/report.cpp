#include "report.hpp"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace corps::bench {

namespace {

const proto::Row* find_row(const proto::Results& results, const std::string& payload,
                           const std::string& client) {
  for (const auto& row : results.rows()) {
    if (row.payload() == payload && row.client() == client) return &row;
  }
  return nullptr;
}

double ratio(double corps, double raw) {
  return raw > 0 ? corps / raw : 0;
}

// 1234567 -> "1,234,567"; below 100, three significant digits.
std::string number(double value) {
  char text[64];
  if (std::abs(value) < 100) {
    std::snprintf(text, sizeof text, "%.3g", value);
    return text;
  }
  std::snprintf(text, sizeof text, "%.0f", value);
  const std::string digits = text;
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

std::string times(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f×", value);
  return text;
}

std::string bytes(double value) {
  return number(std::round(value)) + " B";
}

// A payload's rows as the tables show them: raw, corps, then (nullptr) the
// place of the ratio, then the rest (the codec).
std::vector<const proto::Row*> rows_in_order(const proto::Results& results,
                                             const std::string& payload) {
  std::vector<const proto::Row*> rows;
  for (const char* client : {raw_client, corps_client}) {
    if (const auto* row = find_row(results, payload, client)) rows.push_back(row);
  }
  rows.push_back(nullptr);
  for (const auto& row : results.rows()) {
    if (row.payload() == payload && row.client() != raw_client && row.client() != corps_client)
      rows.push_back(&row);
  }
  return rows;
}

const proto::Ratio* find_ratio(const proto::Results& results, const std::string& payload) {
  for (const auto& ratio : results.ratios()) {
    if (ratio.payload() == payload) return &ratio;
  }
  return nullptr;
}

void print_ratio_throughput(const proto::Results& results, const std::string& payload,
                            std::ostream& out) {
  const auto* r = find_ratio(results, payload);
  if (r == nullptr) return;
  out << "| " << payload << " | **corps / raw** | " << times(r->produce_records_per_second())
      << " | " << times(r->produce_records_per_second()) << " | "
      << times(r->produce_cpu_per_record()) << " | " << times(r->consume_records_per_second())
      << " | " << times(r->consume_records_per_second()) << " | "
      << times(r->consume_cpu_per_record()) << " |\n";
}

void print_ratio_latency(const proto::Results& results, const std::string& payload,
                         std::ostream& out) {
  const auto* r = find_ratio(results, payload);
  if (r == nullptr) return;
  out << "| " << payload << " | **corps / raw** | | | " << times(r->latency_p50()) << " | "
      << times(r->latency_p99()) << " | " << times(r->latency_p999()) << " | "
      << times(r->peak_rss()) << " |\n";
}

}  // namespace

void add_ratios(proto::Results& results) {
  for (const auto& payload : results.payloads()) {
    const auto* raw = find_row(results, payload.name(), raw_client);
    const auto* corps = find_row(results, payload.name(), corps_client);
    if (raw == nullptr || corps == nullptr) continue;
    auto& r = *results.add_ratios();
    r.set_payload(payload.name());
    r.set_produce_records_per_second(
        ratio(corps->produce().records_per_second(), raw->produce().records_per_second()));
    r.set_consume_records_per_second(
        ratio(corps->consume().records_per_second(), raw->consume().records_per_second()));
    r.set_latency_p50(ratio(corps->latency().p50_ms(), raw->latency().p50_ms()));
    r.set_latency_p99(ratio(corps->latency().p99_ms(), raw->latency().p99_ms()));
    r.set_latency_p999(ratio(corps->latency().p999_ms(), raw->latency().p999_ms()));
    r.set_produce_cpu_per_record(ratio(corps->produce().cpu_microseconds_per_record(),
                                       raw->produce().cpu_microseconds_per_record()));
    r.set_consume_cpu_per_record(ratio(corps->consume().cpu_microseconds_per_record(),
                                       raw->consume().cpu_microseconds_per_record()));
    r.set_peak_rss(ratio(corps->peak_rss_mib(), raw->peak_rss_mib()));
  }
}

// Results written before the codec was recorded used zlib.
std::string codec_of(const proto::Setup& setup) {
  return setup.codec().empty() ? "zlib" : setup.codec();
}

void print_markdown(const proto::Results& results, std::ostream& out) {
  const auto& setup = results.setup();
  out << "## corps benchmark\n\n";
  out << "- brokers: " << setup.brokers() << "\n";
  out << "- librdkafka " << setup.librdkafka_version() << ", " << setup.cores() << " cores, "
      << setup.partitions() << " partitions per topic, started " << setup.started_at() << "\n";
  out << "- codec " << codec_of(setup) << ", compression threads "
      << std::max<std::uint32_t>(setup.compression_threads(), 1) << ", zlib level "
      << setup.zlib_level()
      << (setup.zlib_level() == -1 ? " (zlib's default, 6: MessageCorps's format)" : "");
  if (setup.has_decode_threads()) out << ", decode threads " << setup.decode_threads();
  if (setup.has_zlib_store_below()) {
    out << ", zlib values under " << setup.zlib_store_below() << " B stored";
  }
  const std::string codec = codec_of(setup);
  if (setup.has_uncompressed_below() && (codec == "zstd" || codec == "lz4")) {
    out << ", " << codec << " values under " << setup.uncompressed_below()
        << " B sent uncompressed";
  }
  out << "\n";
  out << "- client process before the first row: " << number(setup.start_rss_mib())
      << " MiB resident (included in every peak RSS below)\n";
  for (const auto& payload : results.payloads()) {
    out << "- " << payload.name() << ": " << payload.type() << ", " << payload.samples()
        << " distinct messages cycled, " << bytes(payload.serialized_bytes()) << " serialized, "
        << bytes(payload.value_bytes()) << " on the wire (" << codec_of(setup) << "); "
        << payload.source() << "\n";
  }

  out << "\n### Throughput\n\n"
         "| payload | client | produce msg/s | produce MB/s | produce CPU µs/msg | consume msg/s | "
         "consume MB/s | consume CPU µs/msg |\n"
         "|---|---|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& payload : results.payloads()) {
    for (const auto* row : rows_in_order(results, payload.name())) {
      if (row == nullptr) {
        print_ratio_throughput(results, payload.name(), out);
        continue;
      }
      out << "| " << row->payload() << " | " << row->client() << " | "
          << number(row->produce().records_per_second()) << " | "
          << number(row->produce().megabytes_per_second()) << " | "
          << number(row->produce().cpu_microseconds_per_record()) << " | "
          << number(row->consume().records_per_second()) << " | "
          << number(row->consume().megabytes_per_second()) << " | "
          << number(row->consume().cpu_microseconds_per_record()) << " |\n";
      if (row->has_consume_after_bomb()) {
        const auto& after = row->consume_after_bomb();
        out << "| " << row->payload() << " | " << row->client() << ", after a bomb | — | — | — | "
            << number(after.records_per_second()) << " ("
            << times(ratio(after.records_per_second(), row->consume().records_per_second()))
            << ") | " << number(after.megabytes_per_second()) << " | "
            << number(after.cpu_microseconds_per_record()) << " |\n";
      }
    }
  }

  out << "\n### Latency and memory\n\n"
         "| payload | client | rate msg/s | timed | p50 ms | p99 ms | p99.9 ms | peak RSS MiB |\n"
         "|---|---|--:|--:|--:|--:|--:|--:|\n";
  for (const auto& payload : results.payloads()) {
    for (const auto* row : rows_in_order(results, payload.name())) {
      if (row == nullptr) {
        print_ratio_latency(results, payload.name(), out);
        continue;
      }
      out << "| " << row->payload() << " | " << row->client() << " | ";
      if (row->has_latency()) {
        out << number(row->latency().achieved_rate()) << " | " << number(row->latency().records())
            << " | " << number(row->latency().p50_ms()) << " | " << number(row->latency().p99_ms())
            << " | " << number(row->latency().p999_ms()) << " | ";
      } else {
        out << "— | — | — | — | — | ";
      }
      out << number(row->peak_rss_mib()) << " |\n";
    }
  }

  bool any_stages = false;
  for (const auto& row : results.rows()) any_stages |= row.latency().stages_size() > 0;
  if (any_stages) {
    out << "\n### Latency by stage\n\n"
           "| payload | client | stage | p50 ms | p99 ms |\n"
           "|---|---|---|--:|--:|\n";
    for (const auto& row : results.rows()) {
      for (const auto& stage : row.latency().stages()) {
        out << "| " << row.payload() << " | " << row.client() << " | " << stage.stage() << " | "
            << number(stage.p50_ms()) << " | " << number(stage.p99_ms()) << " |\n";
      }
    }
    out << "\nBy stage, for corps (Record::fetched_at and decoded_at): sent -> fetched is from "
           "handing the message to the producer to the consumer taking it from librdkafka "
           "(linger, the broker, the fetch); fetched -> decoded includes waiting for a decode "
           "thread; decoded -> returned is the wait behind the records before it.\n";
  }

  out << "\nMB/s: record values (as the codec wrote them), 10^6 bytes. CPU: user + system time of "
         "the "
         "whole client process (every librdkafka thread; the broker runs in another process) "
         "per record. Latency: from handing the message to the producer (raw: its encoded "
         "bytes) to the consumer returning it, at a fixed rate, with linger.ms=5; timed: how "
         "many records the percentiles are of. Peak RSS: the "
         "client process's peak while the row ran. The codec row is MessageHandler::encode "
         "(produce) and MessageLoader::load (consume) on one thread, no Kafka. corps / raw above "
         "1× means more: faster for msg/s, costlier for CPU, latency and memory.\n";
}

void write_json(const proto::Results& results, const std::string& path) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(results, &json, options);
  if (!status.ok()) throw std::runtime_error("cannot write JSON: " + status.ToString());
  std::ofstream file(path);
  file << json;
  if (!file.flush()) throw std::runtime_error("cannot write " + path);
}

}  // namespace corps::bench
