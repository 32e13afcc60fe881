#include "corps/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <list>
#include <map>
#include <mutex>
#include <variant>

#include "corps/error.hpp"

namespace corps {

namespace {

std::vector<double> make_bounds() {
  std::vector<double> bounds;
  for (double decade = 1e-6; decade < 1.5; decade *= 10) {
    for (const double step : {1.0, 2.5, 5.0}) bounds.push_back(decade * step);
  }
  bounds.push_back(10.0);
  return bounds;
}

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// A label value as the text format escapes it: backslash, quote, newline.
void append_escaped(std::string& out, std::string_view value) {
  for (const char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// {a="1",b="2"}, with `extra` (a histogram's le) last; empty with none.
std::string label_text(const MetricLabels& labels, std::string_view extra_name = {},
                       std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name;
    out += "=\"";
    append_escaped(out, value);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (out.size() > 1) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);  // 2.5e-06, not 2.4999999999999999e-06
  return buffer;
}

}  // namespace

const std::vector<double>& Histogram::bounds() {
  static const std::vector<double> made = make_bounds();
  return made;
}

Histogram::Histogram()
    : buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds().size() + 1)) {}

void Histogram::observe(double seconds) noexcept {
  const auto& limits = bounds();
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(limits.begin(), limits.end(), seconds) - limits.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  const double ns = seconds > 0 ? seconds * 1e9 : 0;
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds().size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

struct Metrics::Impl {
  enum class Kind { counter, gauge, histogram };
  using Series =
      std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>>;
  struct Family {
    Kind kind;
    std::string help;
    std::map<MetricLabels, Series> series;
  };

  std::mutex mutex;
  std::map<std::string, Family, std::less<>> families;
  std::mutex collectors_mutex;
  std::list<std::function<void(Metrics&)>> collectors;

  template <class T>
  T& find_or_make(std::string_view name, std::string_view help, const MetricLabels& labels,
                  Kind kind) {
    if (!valid_name(name)) {
      throw Exception(
          Error(Errc::invalid_argument, Stage::config,
                "'" + std::string(name) + "' is not a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"));
    }
    std::lock_guard lock(mutex);
    auto family = families.find(name);
    if (family == families.end()) {
      family = families.emplace(std::string(name), Family{kind, std::string(help), {}}).first;
    } else if (family->second.kind != kind) {
      throw Exception(Error(Errc::invalid_argument, Stage::config,
                            "metric '" + std::string(name) + "' is already of another kind"));
    }
    auto& series = family->second.series[labels];
    if (std::holds_alternative<std::unique_ptr<T>>(series) &&
        std::get<std::unique_ptr<T>>(series) != nullptr) {
      return *std::get<std::unique_ptr<T>>(series);
    }
    series = std::make_unique<T>();
    return *std::get<std::unique_ptr<T>>(series);
  }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

Counter& Metrics::counter(std::string_view name, std::string_view help,
                          const MetricLabels& labels) {
  return impl_->find_or_make<Counter>(name, help, labels, Impl::Kind::counter);
}

Gauge& Metrics::gauge(std::string_view name, std::string_view help, const MetricLabels& labels) {
  return impl_->find_or_make<Gauge>(name, help, labels, Impl::Kind::gauge);
}

Histogram& Metrics::histogram(std::string_view name, std::string_view help,
                              const MetricLabels& labels) {
  return impl_->find_or_make<Histogram>(name, help, labels, Impl::Kind::histogram);
}

bool Metrics::remove(std::string_view name, const MetricLabels& labels) {
  std::lock_guard lock(impl_->mutex);
  const auto family = impl_->families.find(name);
  if (family == impl_->families.end() || family->second.series.erase(labels) == 0) return false;
  if (family->second.series.empty()) impl_->families.erase(family);
  return true;
}

std::shared_ptr<void> Metrics::add_collector(std::function<void(Metrics&)> collect) {
  std::lock_guard lock(impl_->collectors_mutex);
  impl_->collectors.push_back(std::move(collect));
  const auto where = std::prev(impl_->collectors.end());
  Impl* impl = impl_.get();
  // Removed under the same lock render() runs collectors under, so a
  // collector never runs after its handle is gone.
  return std::shared_ptr<void>(nullptr, [impl, where](void*) {
    std::lock_guard lock(impl->collectors_mutex);
    impl->collectors.erase(where);
  });
}

std::string Metrics::render() {
  {
    std::lock_guard lock(impl_->collectors_mutex);
    for (const auto& collect : impl_->collectors) collect(*this);
  }
  std::string out;
  std::lock_guard lock(impl_->mutex);
  for (const auto& [name, family] : impl_->families) {
    static constexpr const char* kind_names[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + ' ' + family.help + '\n';
    out += "# TYPE " + name + ' ' + kind_names[static_cast<int>(family.kind)] + '\n';
    for (const auto& [labels, series] : family.series) {
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&series)) {
        out += name + label_text(labels) + ' ' + std::to_string((*counter)->value()) + '\n';
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&series)) {
        out += name + label_text(labels) + ' ' + number((*gauge)->value()) + '\n';
      } else {
        const auto& histogram = *std::get<std::unique_ptr<Histogram>>(series);
        const auto counts = histogram.bucket_counts();
        const auto& bounds = Histogram::bounds();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          const std::string le = i < bounds.size() ? number(bounds[i]) : "+Inf";
          out += name + "_bucket" + label_text(labels, "le", le) + ' ' +
                 std::to_string(cumulative) + '\n';
        }
        out += name + "_sum" + label_text(labels) + ' ' + number(histogram.sum()) + '\n';
        out += name + "_count" + label_text(labels) + ' ' + std::to_string(cumulative) + '\n';
      }
    }
  }
  return out;
}

}  // namespace corps
