// store: consumes VideoStream and Predictions and keeps every frame (as JPEG)
// with its prediction in a SQLite database, joined by trace id whatever the
// order they arrive in. Also answers queries on that database.
//
//   store [--db pipeline.db] [--brokers HOST:PORT]
//   store --db pipeline.db --frame SOURCE:N | --label LABEL | --since T [--until T]
#include <iostream>

#include "channels.hpp"
#include "corps/logging.hpp"
#include "corps/prediction.pb.h"
#include "frame_codec.hpp"
#include "frame_store.hpp"
#include "service.hpp"

namespace {

using namespace corps::pipeline;

void print(const StoredFrame& frame) {
  std::cout << frame.source << " frame " << frame.frame << " (" << frame.width << "x"
            << frame.height << ", " << frame.jpeg.size() << " bytes JPEG, captured " << std::fixed
            << frame.captured_at << ", trace " << frame.trace_id << "): ";
  if (!frame.predicted) {
    std::cout << "no prediction yet\n";
    return;
  }
  std::cout << frame.labels.size() << " detections:";
  for (const auto& label : frame.labels) std::cout << ' ' << label;
  std::cout << '\n';
}

int query(FrameStore& store, const std::string& frame, const std::string& label, double since,
          double until) {
  std::vector<StoredFrame> found;
  if (!frame.empty()) {
    const auto colon = frame.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "store: --frame wants SOURCE:N, e.g. vtest:12\n";
      return 2;
    }
    if (auto one = store.by_frame(frame.substr(0, colon), std::stoll(frame.substr(colon + 1)))) {
      found.push_back(std::move(*one));
    }
  } else if (!label.empty()) {
    found = store.by_label(label);
  } else {
    found = store.between(since, until);
  }
  for (const auto& stored : found) print(stored);
  std::cout << found.size() << " frame(s)\n";
  return found.empty() ? 3 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"store: keep frames and predictions in SQLite; query them"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  ServiceFlags service_flags;
  std::string db = "pipeline.db";
  std::string group = "store";
  std::string frame;
  std::string label;
  double since = -1;
  double until = 1e12;
  add_service_flags(app, service_flags);
  app.add_option("--db", db, "SQLite database file");
  app.add_option("--group,-G", group, "Consumer group");
  auto* by_frame = app.add_option("--frame", frame, "Query: the frame SOURCE:N");
  auto* by_label = app.add_option("--label", label, "Query: frames where LABEL was detected");
  auto* by_time =
      app.add_option("--since", since, "Query: frames captured at or after T (Unix seconds)");
  app.add_option("--until", until, "Query: ... and at or before T")->needs(by_time);
  by_frame->excludes(by_label)->excludes(by_time);
  by_label->excludes(by_time);
  CLI11_PARSE(app, argc, argv);

  try {
    FrameStore store(db);
    if (!frame.empty() || !label.empty() || since >= 0)
      return query(store, frame, label, since, until);

    Service service("store", service_flags);
    corps::Consumer consumer(service.registry(),
                             service.consumer_options(group,
                                                      {std::string(video_channel),
                                                       std::string(predictions_channel)},
                                                      Service::Letters::write));
    corps::logger()->info("storing frames and predictions in {}", db);
    while (!consumer.stopped()) {
      service.tick(consumer);
      auto record = consumer.poll(std::chrono::milliseconds(200));
      if (!record) continue;
      if (!record->ok()) {
        service.failed(*record);
        continue;
      }
      if (const auto* prediction = record->get_if<corps::proto::Prediction>()) {
        store.put_prediction(*prediction);
        service.count("predictions_stored");
        service.latency("prediction->stored", since_sent(*record));
        continue;
      }
      const auto& image = record->as<corps::proto::Image>();
      auto pixels = decode_frame(image, record->location());
      if (!pixels.ok()) {
        service.dead_letter(consumer, *record, pixels.error());
        continue;
      }
      store.put_frame(image, image.pixel_format() == corps::proto::PIXEL_FORMAT_JPEG
                                 ? image.image_data()
                                 : to_jpeg(*pixels));
      service.count("frames_stored");
    }
    service.finish(consumer);
    const auto summary = store.summary();
    std::cout << service.instance() << ": " << summary.frames << " frames, " << summary.predictions
              << " predictions, " << summary.joined << " joined in " << db << '\n';
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "store: " << e.what() << '\n';
    return 1;
  }
}
