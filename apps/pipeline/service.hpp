// What every pipeline service shares: command-line flags for brokers and
// config, a producer for its outputs, its progress reports on the
// PipelineStatus channel, and dead-lettering of records it cannot use.
#pragma once

#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corps/config.hpp"
#include "corps/consumer.hpp"
#include "corps/metrics.hpp"
#include "corps/metrics_server.hpp"
#include "corps/producer.hpp"
#include "corps/record.hpp"

namespace corps::pipeline {

/// The flags every service takes.
struct ServiceFlags {
  std::string brokers;
  std::string config_file;
  std::string instance;
  /// Where to serve Prometheus metrics: a port (0: any free one), or -1: none.
  int metrics_port = -1;
};

/// Adds --brokers, --config, --instance and --metrics-port to `app`.
void add_service_flags(CLI::App& app, ServiceFlags& flags);

/// One running service. Not thread-safe except count(), which any thread
/// may call.
class Service {
 public:
  /// Resolves the brokers and connects the producer. `kind` is capture,
  /// predict, display or store. Throws corps::Exception.
  Service(std::string kind, const ServiceFlags& flags);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// This instance's name, e.g. "predict-1".
  [[nodiscard]] const std::string& instance() const noexcept { return instance_; }
  /// The registry with the pipeline's channels bound.
  [[nodiscard]] const ChannelRegistry& registry() const noexcept { return registry_; }
  /// The producer for outputs, status and dead letters.
  [[nodiscard]] Producer& producer() noexcept { return *producer_; }
  /// Whether a consumer writes the records it cannot use to the
  /// dead-letter channel (the workers) or only counts them (the display,
  /// which shares its records with the workers that do).
  enum class Letters { write, skip };
  /// Options for a consumer of `channels` in `group` on this service's brokers.
  [[nodiscard]] ConsumerOptions consumer_options(std::string group,
                                                 std::vector<std::string> channels,
                                                 Letters letters = Letters::skip) const;

  /// Adds `n` to the counter `name`. Thread-safe.
  void count(const std::string& name, std::int64_t n = 1);
  /// Sets the counter `name` to `value` (a gauge, e.g. partitions assigned).
  /// Thread-safe.
  void set(const std::string& name, std::int64_t value);

  /// The counter `name`. Thread-safe.
  [[nodiscard]] std::int64_t counter(const std::string& name) const;

  /// One frame's time in pipeline stage `stage` (e.g. "inference"). Each
  /// status report carries the p50 and p99 of the stage's last 1,000
  /// (counters latency_p50_us:STAGE, latency_p99_us:STAGE, in µs), and the
  /// metrics a histogram (corps_pipeline_stage_seconds). Thread-safe.
  void latency(const std::string& stage, std::chrono::duration<double> time);

  /// Sends a status report if a second has passed since the last one.
  void tick();
  /// As tick(), and the report says how many partitions `consumer` holds:
  /// the launcher starts capture only once every consumer has joined. The
  /// assignment is read only when a report is due, not per record.
  void tick(const Consumer& consumer);
  /// Closes `consumer` (committing what was handled) and sends the final
  /// status report, waiting for every record in flight. A commit refused
  /// because the group is rebalancing as members leave is logged, not
  /// fatal: those records are delivered again, which at-least-once allows.
  void finish(Consumer& consumer);
  /// Sends the final status report and waits for every record in flight.
  void finish();

  /// Writes `record` with `error` to the dead-letter channel through
  /// `consumer` (its options made with Letters::write), waiting for the
  /// broker's acknowledgement, and counts it. If the letter could not be
  /// written, the record is fetched again after a pause; throws
  /// corps::Exception if trying again cannot help (the record stays
  /// uncommitted and comes back after a restart).
  void dead_letter(Consumer& consumer, const Record& record, const Error& error);
  /// Counts a record `consumer.poll()` returned failed: one that did not
  /// decode is on the dead-letter channel already; one whose letter could
  /// not be written comes again (after a pause; throws as dead_letter()
  /// does if trying again cannot help); an error with no record is counted.
  void failed(const Record& record);

 private:
  void report(bool finished);

  std::string kind_;
  std::string instance_;
  Config config_;
  Brokers brokers_;
  ChannelRegistry registry_;
  // Counted always (an atomic add per event); served with --metrics-port.
  std::shared_ptr<Metrics> metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::shared_ptr<void> counters_collector_;
  std::unique_ptr<Producer> producer_;
  mutable std::mutex counters_mutex_;
  std::map<std::string, std::int64_t> counters_;
  // Per stage, the latest samples in seconds, oldest first.
  std::map<std::string, std::deque<double>> latencies_;
  std::chrono::steady_clock::time_point last_report_{};
};

/// From when `record`'s producer sent it (its Kafka timestamp) to when the
/// consumer took it from the Kafka client (Record::fetched_at): linger, the
/// broker, the fetch.
[[nodiscard]] std::chrono::duration<double> sent_to_fetched(const Record& record);
/// From when `record`'s producer sent it to now.
[[nodiscard]] std::chrono::duration<double> since_sent(const Record& record);

/// The stages Service::latency measures, in the order a frame goes through
/// them: the summary and the page list them so.
inline constexpr std::array<std::string_view, 5> latency_stages{
    "capture->acked", "sent->fetched", "fetched->decoded", "inference", "prediction->stored"};

/// The `p`th percentile (0 to 100) of `sorted`, ascending: the nearest
/// rank; 0 if it is empty.
[[nodiscard]] double percentile(const std::vector<double>& sorted, double p);

}  // namespace corps::pipeline
