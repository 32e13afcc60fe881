#include "latency.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <thread>
#include <vector>

#include "stats.hpp"

namespace corps::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Records sent first, and awaited, so that connections are up and fetching
// has started before anything is timed.
constexpr std::size_t warm_up_records = 10;
constexpr auto silence_limit = std::chrono::seconds(30);
constexpr std::array<const char*, 3> stage_names{"sent -> fetched", "fetched -> decoded",
                                                 "decoded -> returned"};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Reads every record on its own thread and times each against its send.
class Receiver {
 public:
  Receiver(std::unique_ptr<BenchConsumer> consumer, std::size_t total)
      : consumer_(std::move(consumer)), sent_ns_(total) {
    latencies_ms_.reserve(total);
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  void sent(std::size_t sequence, std::int64_t at_ns) {
    sent_ns_[sequence].store(at_ns, std::memory_order_release);
  }
  [[nodiscard]] std::size_t received() const { return received_.load(); }

  // Waits until `count` records arrived; throws if the consumer failed or
  // went silent.
  void wait_for(std::size_t count) {
    auto last_count = received();
    auto last_change = Clock::now();
    while (received() < count) {
      if (failure_.load()) std::rethrow_exception(error_);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (received() != last_count) {
        last_count = received();
        last_change = Clock::now();
      } else if (Clock::now() - last_change > silence_limit) {
        throw std::runtime_error("received " + std::to_string(last_count) + " of " +
                                 std::to_string(count) + " records: records were lost");
      }
    }
    if (failure_.load()) std::rethrow_exception(error_);
  }

  // The latencies of the records after the warm-up; call after wait_for().
  [[nodiscard]] std::vector<double> latencies_ms() {
    stop_.store(true);
    thread_.join();
    return std::move(latencies_ms_);
  }
  // By stage (stage_names), for a consumer that told; after latencies_ms().
  [[nodiscard]] std::array<std::vector<double>, 3>& stages_ms() { return stages_ms_; }

 private:
  void run() {
    try {
      while (!stop_.load() && received_.load() < sent_ns_.size()) {
        const auto record = consumer_->poll(std::chrono::milliseconds(100));
        if (!record) continue;
        const std::int64_t arrived = now_ns();
        if (!record->sequence || *record->sequence >= sent_ns_.size())
          throw std::runtime_error("a record without a valid sequence header");
        const std::size_t sequence = *record->sequence;
        const std::int64_t sent = sent_ns_[sequence].load(std::memory_order_acquire);
        if (sequence >= warm_up_records) {
          latencies_ms_.push_back((arrived - sent) / 1e6);
          if (record->fetched_ns && record->decoded_ns) {
            stages_ms_[0].push_back((*record->fetched_ns - sent) / 1e6);
            stages_ms_[1].push_back((*record->decoded_ns - *record->fetched_ns) / 1e6);
            stages_ms_[2].push_back((arrived - *record->decoded_ns) / 1e6);
          }
        }
        received_.fetch_add(1);
      }
    } catch (...) {
      error_ = std::current_exception();
      failure_.store(true);
    }
  }

  std::unique_ptr<BenchConsumer> consumer_;
  std::vector<std::atomic<std::int64_t>> sent_ns_;
  std::vector<double> latencies_ms_;
  std::array<std::vector<double>, 3> stages_ms_;
  std::atomic<std::size_t> received_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failure_{false};
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

proto::Latency measure_latency(Client& client, Payload& payload, const LatencyPlan& plan,
                               Progress& progress) {
  const auto timed = std::max<std::size_t>(1, static_cast<std::size_t>(plan.rate * plan.seconds));
  const std::size_t total = warm_up_records + timed;
  const auto partitions = static_cast<std::size_t>(plan.partitions);
  progress.stage(client.name() + " · " + payload.name() + " · latency at " +
                     std::to_string(static_cast<long>(plan.rate)) + "/s",
                 timed);

  auto producer = client.producer(payload, plan.topic);
  Receiver receiver(client.consumer(payload, plan.topic, std::vector<std::int64_t>(partitions, 0),
                                    ReadSequence::yes),
                    total);
  const auto send = [&](std::size_t sequence) {
    receiver.sent(sequence, now_ns());
    producer->send(sequence, static_cast<std::int32_t>(sequence % partitions), sequence);
  };

  for (std::size_t sequence = 0; sequence < warm_up_records; ++sequence) send(sequence);
  producer->flush();
  receiver.wait_for(warm_up_records);

  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / plan.rate));
  const auto first = Clock::now();
  auto next = first;
  auto last = first;
  for (std::size_t sequence = warm_up_records; sequence < total; ++sequence) {
    std::this_thread::sleep_until(next);
    last = Clock::now();
    send(sequence);
    next += period;
    progress.update(sequence - warm_up_records + 1);
  }
  const double sending_seconds = std::chrono::duration<double>(last - first).count();
  producer->flush();
  receiver.wait_for(total);

  auto latencies = receiver.latencies_ms();
  proto::Latency out;
  out.set_records(static_cast<std::uint32_t>(latencies.size()));
  out.set_target_rate(plan.rate);
  // The rate actually kept: lower than the target if sending could not keep up.
  out.set_achieved_rate(timed > 1 && sending_seconds > 0
                            ? static_cast<double>(timed - 1) / sending_seconds
                            : plan.rate);
  out.set_p50_ms(percentile(latencies, 0.50));
  out.set_p99_ms(percentile(latencies, 0.99));
  out.set_p999_ms(percentile(latencies, 0.999));
  out.set_max_ms(percentile(latencies, 1.0));
  auto& stages = receiver.stages_ms();
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (stages[i].empty()) continue;
    auto* stage = out.add_stages();
    stage->set_stage(stage_names[i]);
    stage->set_p50_ms(percentile(stages[i], 0.50));
    stage->set_p99_ms(percentile(stages[i], 0.99));
  }
  return out;
}

}  // namespace corps::bench
