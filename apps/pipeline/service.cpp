#include "service.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "channels.hpp"
#include "corps/logging.hpp"
#include "pipeline/status.pb.h"

namespace corps::pipeline {

void add_service_flags(CLI::App& app, ServiceFlags& flags) {
  app.add_option(
      "--brokers,-b", flags.brokers,
      "Kafka bootstrap brokers (default: CORPS_BROKERS, --config, a running corps broker, "
      "or an embedded broker)");
  app.add_option("--config", flags.config_file, "YAML config (brokers, librdkafka properties)")
      ->check(CLI::ExistingFile);
  app.add_option("--instance", flags.instance, "This instance's name (default: SERVICE-PID)");
  app.add_option("--metrics-port", flags.metrics_port,
                 "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port)")
      ->check(CLI::Range(0, 65535));
}

Service::Service(std::string kind, const ServiceFlags& flags)
    : kind_(std::move(kind)),
      instance_(flags.instance.empty() ? kind_ + "-" + std::to_string(::getpid()) : flags.instance),
      config_(flags.config_file.empty() ? Config{} : Config::load(flags.config_file)),
      brokers_(Brokers::resolve(flags.brokers, config_.brokers)),
      registry_(pipeline_registry()) {
  logger()->set_pattern("[%H:%M:%S.%e] [" + instance_ + "] [%l] %v");
  metrics_ = std::make_shared<Metrics>();
  // The service's own counts (frames captured, predicted, stored, ...).
  counters_collector_ = metrics_->add_collector([this](Metrics& metrics) {
    std::lock_guard lock(counters_mutex_);
    for (const auto& [name, value] : counters_) {
      metrics
          .gauge("corps_pipeline_count", "The pipeline service's own counts, by name",
                 {{"service", kind_}, {"instance", instance_}, {"name", name}})
          .set(static_cast<double>(value));
    }
  });
  if (flags.metrics_port >= 0) {
    metrics_server_ =
        std::make_unique<MetricsServer>(metrics_, MetricsServerOptions{.port = flags.metrics_port});
    std::cerr << instance_ << ": metrics at " << metrics_server_->url() << std::endl;
  }
  ProducerOptions options;
  options.metrics = metrics_;
  options.brokers = brokers_.bootstrap_servers();
  options.client_id = instance_;
  options.properties = config_.properties;
  // Raw frames are about 1.3 MB; Kafka's default limit is 1 MB.
  options.properties.emplace("message.max.bytes", "16777216");
  options.handler.metadata.sending_service = instance_;
  producer_ = std::make_unique<Producer>(registry_, options);
}

Service::~Service() {
  // No scrape may read the counters once they start going.
  metrics_server_.reset();
  counters_collector_.reset();
}

ConsumerOptions Service::consumer_options(std::string group, std::vector<std::string> channels,
                                          Letters letters) const {
  ConsumerOptions options;
  options.brokers = brokers_.bootstrap_servers();
  options.group_id = std::move(group);
  options.client_id = instance_;
  options.channels = std::move(channels);
  options.metrics = metrics_;
  if (letters == Letters::write) {
    // Records that do not decode, and frames whose pixels do not, go here.
    options.dead_letters.emplace();
    options.dead_letters->channel = std::string(dead_letters_channel);
    options.dead_letters->service = instance_;
    // A raw frame (about 1.3 MB) is kept whole in its letter, so it can be
    // replayed: the channel takes what the frames' channel takes.
    options.dead_letters->max_letter_bytes = 16U << 20;
    options.dead_letters->producer_properties["message.max.bytes"] = "16777216";
  }
  // Groups settle within seconds when a worker joins or leaves.
  options.properties.emplace("session.timeout.ms", "10000");
  options.properties.emplace("heartbeat.interval.ms", "1000");
  for (const auto& [name, value] : config_.properties) {
    if (name != "message.max.bytes") options.properties[name] = value;
  }
  return options;
}

void Service::count(const std::string& name, std::int64_t n) {
  std::lock_guard lock(counters_mutex_);
  counters_[name] += n;
}

void Service::set(const std::string& name, std::int64_t value) {
  std::lock_guard lock(counters_mutex_);
  counters_[name] = value;
}

namespace {

// How many of a stage's latest samples its percentiles are of.
constexpr std::size_t latency_window = 1'000;

}  // namespace

std::chrono::duration<double> sent_to_fetched(const Record& record) {
  // fetched_at is on the steady clock, the timestamp on the wall clock.
  const auto fetched_ago = std::chrono::steady_clock::now() - record.fetched_at();
  return since_sent(record) - fetched_ago;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto index =
      static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

std::chrono::duration<double> since_sent(const Record& record) {
  const auto sent =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(record.timestamp_ms()));
  return std::chrono::system_clock::now() - sent;
}

void Service::latency(const std::string& stage, std::chrono::duration<double> time) {
  const double seconds = std::max(0.0, time.count());  // clocks of two hosts may disagree
  metrics_
      ->histogram("corps_pipeline_stage_seconds", "Time a frame spent in one pipeline stage",
                  {{"service", kind_}, {"stage", stage}})
      .observe(seconds);
  std::lock_guard lock(counters_mutex_);
  auto& samples = latencies_[stage];
  samples.push_back(seconds);
  if (samples.size() > latency_window) samples.pop_front();
}

void Service::tick(const Consumer& consumer) {
  if (std::chrono::steady_clock::now() - last_report_ < std::chrono::seconds(1)) return;
  set("assigned_partitions", static_cast<std::int64_t>(consumer.assignment().size()));
  report(false);
}

std::int64_t Service::counter(const std::string& name) const {
  std::lock_guard lock(counters_mutex_);
  const auto it = counters_.find(name);
  return it == counters_.end() ? 0 : it->second;
}

void Service::tick() {
  if (std::chrono::steady_clock::now() - last_report_ >= std::chrono::seconds(1)) report(false);
}

void Service::finish(Consumer& consumer) {
  const Status closed = consumer.close();
  if (!closed.ok()) {
    logger()->warn("{}; records handled since the last commit will be delivered again",
                   closed.error().to_string());
  }
  finish();
}

void Service::finish() {
  report(true);
  const Status flushed = producer_->flush(std::chrono::seconds(30));
  if (!flushed.ok()) logger()->error("{}", flushed.error().to_string());
}

void Service::report(bool finished) {
  last_report_ = std::chrono::steady_clock::now();
  ServiceStatus status;
  status.set_service(kind_);
  status.set_instance(instance_);
  status.set_finished(finished);
  {
    std::lock_guard lock(counters_mutex_);
    for (const auto& [name, value] : counters_) (*status.mutable_counters())[name] = value;
    for (const auto& [stage, samples] : latencies_) {
      std::vector<double> sorted(samples.begin(), samples.end());
      std::sort(sorted.begin(), sorted.end());
      const auto micros = [&](double p) {
        return static_cast<std::int64_t>(percentile(sorted, p) * 1e6);
      };
      auto& counters = *status.mutable_counters();
      counters["latency_p50_us:" + stage] = micros(50);
      counters["latency_p99_us:" + stage] = micros(99);
      counters["latency_n:" + stage] = static_cast<std::int64_t>(sorted.size());
    }
  }
  producer_->send(std::string(status_channel), status, {.key = instance_},
                  [](const DeliveryReport& report) {
                    if (!report.ok())
                      logger()->warn("status report lost: {}", report.error().to_string());
                  });
}

namespace {

// A dead letter that could not be written: the record was rewound, so the
// next poll fetches it again. A pause first, so a broker that refuses does
// not get the same letter in a tight loop; an error that will not pass ends
// the service, the record uncommitted, as Consumer::run ends.
void letter_not_written(const Error& error, const RecordLocation& where) {
  if (!error.retriable()) {
    throw Exception(Error(error.code(), error.stage(),
                          error.message() + "; " + where.to_string() +
                              " stays uncommitted and comes back after a restart",
                          where));
  }
  logger()->error("{}; {} will be fetched again", error.to_string(), where.to_string());
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

}  // namespace

void Service::dead_letter(Consumer& consumer, const Record& record, const Error& error) {
  const Status written = consumer.dead_letter(record, error);
  if (!written.ok()) {
    letter_not_written(written.error(), record.location());
    return;
  }
  count("dead_lettered");
  count("dead_lettered_" + record.topic());
}

void Service::failed(const Record& record) {
  const Error& error = record.error();
  if (error.stage() == Stage::dead_letter) {
    letter_not_written(error, record.location());
    return;
  }
  if (error.stage() == Stage::consume) {
    count("consume_errors");  // no record came with it (logged by the consumer)
    return;
  }
  count("dead_lettered");
  count("dead_lettered_" + record.topic());
}

}  // namespace corps::pipeline
