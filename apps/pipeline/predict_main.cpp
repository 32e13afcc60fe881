// predict: a worker that consumes VideoStream in a consumer group, runs a real
// pre-trained detector on each frame and sends what it found as a Prediction
// on Predictions, carrying the frame's trace id. Start several: the group
// shares VideoStream's partitions among them.
//
//   predict [--detector people+faces] [--group predict] [--brokers HOST:PORT]
#include <chrono>
#include <iostream>

#include "channels.hpp"
#include "corps/logging.hpp"
#include "corps/prediction.pb.h"
#include "detector.hpp"
#include "frame_codec.hpp"
#include "service.hpp"

namespace {

using namespace corps::pipeline;

corps::proto::Prediction predict(Detector& detector, const corps::proto::Image& image,
                                 const cv::Mat& bgr) {
  const auto started = std::chrono::steady_clock::now();
  const auto found = detector.detect(bgr);
  corps::proto::Prediction prediction;
  prediction.set_inference_ms(
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count());
  prediction.set_frame(image.frame());
  prediction.set_source(image.source());
  prediction.set_image_timestamp(image.message_data().timestamp());
  prediction.set_detector(detector.name());
  for (const auto& detection : found) {
    prediction.add_object(detection.label);
    auto* out = prediction.add_detections();
    out->set_label(detection.label);
    out->set_score(detection.score);
    out->set_x(detection.box.x);
    out->set_y(detection.box.y);
    out->set_width(detection.box.width);
    out->set_height(detection.box.height);
  }
  return prediction;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"predict: detect objects in VideoStream frames, send Predictions"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  ServiceFlags service_flags;
  std::string detector_spec = "people+faces";
  std::string group = "predict";
  add_service_flags(app, service_flags);
  app.add_option("--detector,-d", detector_spec,
                 "people, faces, fullbody, or several joined with '+'");
  app.add_option("--group,-G", group, "Consumer group; workers in one group share the frames");
  CLI11_PARSE(app, argc, argv);

  try {
    auto detector = make_detector(detector_spec);
    Service service("predict", service_flags);
    corps::Consumer consumer(
        service.registry(),
        service.consumer_options(group, {std::string(video_channel)}, Service::Letters::write));
    corps::logger()->info("detecting with {} in group '{}'", detector->name(), group);
    while (!consumer.stopped()) {
      service.tick(consumer);
      auto record = consumer.poll(std::chrono::milliseconds(200));
      if (!record) continue;
      service.count("received");
      if (!record->ok()) {
        service.failed(*record);
        continue;
      }
      service.latency("sent->fetched", sent_to_fetched(*record));
      service.latency("fetched->decoded", record->decoded_at() - record->fetched_at());
      const auto& image = record->as<corps::proto::Image>();
      auto pixels = decode_frame(image, record->location());
      if (!pixels.ok()) {
        service.dead_letter(consumer, *record, pixels.error());
        continue;
      }
      auto prediction = predict(*detector, image, *pixels);
      service.latency("inference",
                      std::chrono::duration<double, std::milli>(prediction.inference_ms()));
      // The prediction continues the frame's trace, the frame's span its
      // parent (a traceparent header any OpenTelemetry reader follows).
      const corps::TraceScope trace(*record);
      // Wait for the broker: the frame counts as handled (and its offset is
      // committed) only once its prediction is safe.
      const auto report =
          service.producer()
              .send(std::string(predictions_channel), prediction, {.key = image.source()})
              .get();
      if (!report.ok()) throw corps::Exception(report.error());
      service.count("predicted");
      service.count("detections", prediction.detections_size());
    }
    service.finish(consumer);
    std::cout << service.instance() << ": predicted " << service.counter("predicted") << " of "
              << service.counter("received") << " frames, " << service.counter("dead_lettered")
              << " dead-lettered\n";
    return 0;
  } catch (const corps::Exception& e) {
    std::cerr << "predict: " << e.what() << '\n';
    return 1;
  }
}
