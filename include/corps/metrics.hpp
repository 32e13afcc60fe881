// Metrics: counters, gauges and histograms a service's producers and
// consumers keep, in Prometheus's text format.
//
//   auto metrics = std::make_shared<corps::Metrics>();
//   producer_options.metrics = metrics;      // sent, delivered, failed, encode time
//   consumer_options.metrics = metrics;      // consumed, decode failures, lag, ...
//   corps::MetricsServer server(metrics, {.port = 9464});   // GET /metrics
//
// What corps records is listed in the README ("Metrics"). Every series is
// made on first use and lives as long as its Metrics; updating one is an
// atomic add, so the record paths pay nothing else once a series exists.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corps {

/// A series' labels, as (name, value) pairs, in the order given.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

/// A count that only goes up.
class Counter {
 public:
  void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const noexcept {
    return value_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down.
class Gauge {
 public:
  void set(double value) noexcept { value_.store(value, std::memory_order_relaxed); }
  [[nodiscard]] double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

/// How long something took: counts per bucket, their sum and count.
/// Buckets (seconds): 1, 2.5, 5 and 10 times each power of ten from 1 µs
/// to 1 s, then 2.5, 5, 10: wide enough for a parse of a few bytes and a
/// frame's inference alike.
class Histogram {
 public:
  /// The buckets' upper bounds, in seconds, ascending (+Inf not included).
  static const std::vector<double>& bounds();

  Histogram();
  void observe(double seconds) noexcept;
  /// Each bucket's own count (not cumulative), +Inf last.
  [[nodiscard]] std::vector<std::uint64_t> bucket_counts() const;
  [[nodiscard]] std::uint64_t count() const noexcept {
    return count_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] double sum() const noexcept {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }

 private:
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
};

/// A set of named series. Thread-safe: series may be made, updated and
/// rendered from any thread at once.
class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// The counter `name` with `labels`, made on first use. `help` describes
  /// the metric (the first given is kept). Throws corps::Exception
  /// (Stage::config) if `name` is not a valid metric name or is already a
  /// metric of another kind.
  Counter& counter(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  /// The gauge `name` with `labels`, made on first use.
  Gauge& gauge(std::string_view name, std::string_view help, const MetricLabels& labels = {});
  /// The histogram `name` with `labels`, made on first use.
  Histogram& histogram(std::string_view name, std::string_view help,
                       const MetricLabels& labels = {});

  /// Drops the series `name` with `labels`, of any kind, and its metric
  /// with its last series: for a figure that no longer stands (the lag of
  /// a partition no longer read), which a scrape should not see at its last
  /// value. A reference to it that counter(), gauge() or histogram() gave
  /// must not be used after. Returns whether there was such a series.
  bool remove(std::string_view name, const MetricLabels& labels);

  /// Calls `collect` before each render: for figures read when asked (a
  /// queue's depth). Returns a handle; the collector is removed when it is
  /// destroyed.
  [[nodiscard]] std::shared_ptr<void> add_collector(std::function<void(Metrics&)> collect);

  /// Every series, in Prometheus's text exposition format (version 0.0.4),
  /// metrics sorted by name and series by labels, so two renders of the
  /// same figures are the same text.
  [[nodiscard]] std::string render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corps
