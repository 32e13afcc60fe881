// display: consumes VideoStream, Predictions and PipelineStatus and serves a
// live page on localhost: each source's latest frame with the detected boxes
// drawn, the labels, frames per second in and out, consumer lag per
// partition, latency by stage and every service's counters.
//
//   display [--port 8080] [--bind 127.0.0.1] [--brokers HOST:PORT]

#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "channels.hpp"
#include "corps/http_server.hpp"
#include "corps/logging.hpp"
#include "corps/prediction.pb.h"
#include "display_page.hpp"
#include "frame_codec.hpp"
#include "page_json.hpp"
#include "pipeline/display.pb.h"
#include "pipeline/status.pb.h"
#include "service.hpp"

namespace {

using namespace corps::pipeline;
using Clock = std::chrono::steady_clock;

// Every map the page keeps is keyed by what records say (a source's name, a
// service's instance, a label): each is capped, so a stream of new names
// cannot grow the display without bound.
constexpr std::size_t max_sources = 16;
constexpr std::size_t max_services = 64;
constexpr std::size_t max_labels = 32;     // per source, on the page
constexpr std::size_t max_counters = 64;   // per service, on the page
constexpr std::size_t max_name_bytes = 128;

// What the page shows, shared between the consumer loop and the HTTP server.
class DisplayState {
 public:
  void add_frame(corps::proto::Image image) {
    std::lock_guard lock(mutex_);
    frame_times_.push_back(Clock::now());
    ++frames_;
    auto* view = source(image.source());
    if (view != nullptr) view->image = std::move(image);
  }

  void add_prediction(const corps::proto::Prediction& prediction) {
    std::lock_guard lock(mutex_);
    prediction_times_.push_back(Clock::now());
    ++predictions_;
    auto* found = source(prediction.source());
    if (found == nullptr) return;
    auto& view = *found;
    view.predictions[prediction.message_data().trace_id()] = prediction;
    // Keep the predictions of the last few seconds of frames.
    while (view.predictions.size() > 64) view.predictions.erase(view.oldest_prediction());
    view.latest_prediction = prediction;
  }

  void add_error() {
    std::lock_guard lock(mutex_);
    ++errors_;
  }

  void add_status(const ServiceStatus& status) {
    std::lock_guard lock(mutex_);
    const std::string instance = status.instance().substr(0, max_name_bytes);
    if (statuses_.size() >= max_services && !statuses_.contains(instance)) {
      ++errors_;  // a service past the cap is not shown
      return;
    }
    statuses_[instance] = status;
  }

  void set_lag(std::vector<corps::PartitionLag> lag) {
    std::lock_guard lock(mutex_);
    lag_ = std::move(lag);
  }

  // The latest frame of `source` (or of the first source) with boxes drawn.
  std::optional<std::string> frame_jpeg(const std::string& source) {
    corps::proto::Image image;
    corps::proto::Prediction prediction;
    {
      std::lock_guard lock(mutex_);
      auto it = source.empty() ? sources_.begin() : sources_.find(source);
      if (it == sources_.end() || it->second.image.image_data().empty()) return std::nullopt;
      image = it->second.image;
      prediction = it->second.prediction_for(image);
    }
    auto pixels = decode_frame(image, {std::string(video_channel), -1, -1});
    if (!pixels.ok()) return std::nullopt;
    cv::Mat& frame = *pixels;
    for (const auto& detection : prediction.detections()) {
      const cv::Rect box(detection.x(), detection.y(), detection.width(), detection.height());
      cv::rectangle(frame, box, cv::Scalar(0, 255, 0), 2);
      cv::putText(frame, detection.label(), box.tl() + cv::Point(2, 14), cv::FONT_HERSHEY_SIMPLEX,
                  0.5, cv::Scalar(0, 255, 0), 1);
    }
    return to_jpeg(frame, 80);
  }

  DisplayStats stats() {
    std::lock_guard lock(mutex_);
    DisplayStats stats;
    const auto now = Clock::now();
    stats.set_frames_per_second_in(rate(frame_times_, now));
    stats.set_predictions_per_second(rate(prediction_times_, now));
    stats.set_frames(frames_);
    stats.set_predictions(predictions_);
    stats.set_errors(errors_);
    for (auto& [name, view] : sources_) {
      auto* out = stats.add_sources();
      out->set_source(name);
      out->set_frame(view.image.frame());
      out->set_width(view.image.width());
      out->set_height(view.image.height());
      const auto prediction = view.prediction_for(view.image);
      out->set_predicted_frame(prediction.frame());
      auto& labels = *out->mutable_labels();
      for (const auto& detection : prediction.detections()) {
        const std::string label = detection.label().substr(0, max_name_bytes);
        if (labels.size() < max_labels || labels.contains(label)) ++labels[label];
      }
    }
    for (const auto& lag : lag_) {
      auto* out = stats.add_lag();
      out->set_topic(lag.partition.topic);
      out->set_partition(lag.partition.partition);
      out->set_lag(std::max<std::int64_t>(lag.lag, 0));
    }
    add_stages(stats);
    for (const auto& [instance, status] : statuses_) {
      auto* out = stats.add_services();
      out->set_instance(instance);
      out->set_finished(status.finished());
      for (const auto& [name, value] : status.counters()) {
        if (out->counters_size() >= static_cast<int>(max_counters)) break;
        if (name.rfind("latency_", 0) != 0)
          (*out->mutable_counters())[name.substr(0, max_name_bytes)] = value;
      }
    }
    return stats;
  }

 private:
  struct SourceState;
  // The view of `name`, made if there is room; null past the cap (the
  // record is counted as an error, not shown).
  SourceState* source(const std::string& name) {
    const std::string key = name.substr(0, max_name_bytes);
    if (sources_.size() >= max_sources && !sources_.contains(key)) {
      ++errors_;
      return nullptr;
    }
    return &sources_[key];
  }

  struct SourceState {
    corps::proto::Image image;
    std::map<std::string, corps::proto::Prediction> predictions;  // by trace id
    corps::proto::Prediction latest_prediction;

    // The prediction of `frame` if it arrived, else the latest one.
    corps::proto::Prediction prediction_for(const corps::proto::Image& frame) const {
      const auto it = predictions.find(frame.message_data().trace_id());
      return it != predictions.end() ? it->second : latest_prediction;
    }
    std::map<std::string, corps::proto::Prediction>::iterator oldest_prediction() {
      return std::min_element(
          predictions.begin(), predictions.end(),
          [](const auto& a, const auto& b) { return a.second.frame() < b.second.frame(); });
    }
  };

  // Each stage's p50 and p99, the slowest instance's, in the pipeline's order.
  void add_stages(DisplayStats& stats) const {
    for (const std::string_view stage : latency_stages) {
      std::int64_t p50 = -1;
      std::int64_t p99 = -1;
      for (const auto& [instance, status] : statuses_) {
        const auto& counters = status.counters();
        if (const auto it = counters.find("latency_p50_us:" + std::string(stage));
            it != counters.end())
          p50 = std::max(p50, it->second);
        if (const auto it = counters.find("latency_p99_us:" + std::string(stage));
            it != counters.end())
          p99 = std::max(p99, it->second);
      }
      if (p50 < 0) continue;
      auto* out = stats.add_stages();
      out->set_stage(std::string(stage));
      out->set_p50_ms(static_cast<double>(p50) / 1000);
      out->set_p99_ms(static_cast<double>(p99) / 1000);
    }
  }

  static double rate(std::deque<Clock::time_point>& times, Clock::time_point now) {
    const auto window = std::chrono::seconds(5);
    while (!times.empty() && now - times.front() > window) times.pop_front();
    return static_cast<double>(times.size()) / 5.0;
  }

  std::mutex mutex_;
  std::map<std::string, SourceState> sources_;
  std::deque<Clock::time_point> frame_times_;
  std::deque<Clock::time_point> prediction_times_;
  std::int64_t frames_ = 0;
  std::int64_t predictions_ = 0;
  std::int64_t errors_ = 0;
  std::vector<corps::PartitionLag> lag_;
  std::map<std::string, ServiceStatus> statuses_;  // by instance
};

corps::HttpResponse serve(const corps::HttpRequest& request, DisplayState& state) {
  if (request.method != "GET" && request.method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}}};
  }
  if (request.path.empty()) return {200, "text/html; charset=utf-8", display_page, {}};
  if (request.path == std::vector<std::string>{"page.css"}) {
    return {200, "text/css; charset=utf-8", display_style, {}};
  }
  if (request.path == std::vector<std::string>{"page.js"}) {
    return {200, "text/javascript; charset=utf-8", display_script, {}};
  }
  if (request.path == std::vector<std::string>{"frame.jpg"}) {
    const auto jpeg = state.frame_jpeg(std::string(request.param("source")));
    if (!jpeg) return {404, "text/plain; charset=utf-8", "no frame yet\n", {}};
    return {200, "image/jpeg", *jpeg, {{"Cache-Control", "no-store"}}};
  }
  if (request.path == std::vector<std::string>{"stats.json"}) {
    return {200, "application/json", page_json(state.stats()), {{"Cache-Control", "no-store"}}};
  }
  return {404, "text/plain; charset=utf-8", "not found\n", {}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"display: serve a live page of the pipeline's frames and predictions"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  ServiceFlags service_flags;
  int port = 8080;
  std::string bind = "127.0.0.1";
  std::string group;
  add_service_flags(app, service_flags);
  app.add_option("--port,-p", port, "HTTP port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--bind", bind, "Address to listen on");
  app.add_option("--group,-G", group,
                 "Consumer group (default: display-INSTANCE, so each display sees all)");
  CLI11_PARSE(app, argc, argv);

  try {
    Service service("display", service_flags);
    if (group.empty()) group = "display-" + service.instance();
    auto options = service.consumer_options(
        group, {std::string(video_channel), std::string(predictions_channel),
                std::string(status_channel)});
    // The page shows the present: nothing to gain from committing.
    options.commit_mode = corps::CommitMode::automatic;
    corps::Consumer consumer(service.registry(), options);

    DisplayState state;
    corps::HttpServerOptions http;
    http.host = bind;
    http.port = port;
    http.limits.max_body_bytes = 0;  // the page takes no uploads
    http.name = "the display";
    // The page runs its own script and loads its own frames, nothing else.
    http.headers = {{"Content-Security-Policy", page_security_policy}};
    corps::HttpServer server(std::move(http),
                             [&state](const corps::HttpRequest& request) { return serve(request, state); });
    const int bound = server.port();
    std::cout << "display: " << server.url() << "/" << std::endl;
    corps::logger()->info("serving http://{}:{}/", bind, bound);

    auto last_lag = Clock::now();
    while (!consumer.stopped()) {
      service.tick(consumer);
      if (Clock::now() - last_lag > std::chrono::seconds(1)) {
        state.set_lag(consumer.lag());
        last_lag = Clock::now();
      }
      auto record = consumer.poll(std::chrono::milliseconds(200));
      if (!record) continue;
      if (!record->ok()) {
        // predict and store dead-letter bad records; the page only counts them.
        corps::logger()->warn("{}", record->error().to_string());
        state.add_error();
        service.count("errors");
        continue;
      }
      if (const auto* prediction = record->get_if<corps::proto::Prediction>()) {
        state.add_prediction(*prediction);
        service.count("predictions_shown");
      } else if (const auto* status = record->get_if<ServiceStatus>()) {
        state.add_status(*status);
      } else {
        state.add_frame(std::move(dynamic_cast<corps::proto::Image&>(record->mutable_message())));
        service.count("frames_shown");
      }
    }
    service.finish(consumer);
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "display: " << e.what() << '\n';
    return 1;
  }
}
