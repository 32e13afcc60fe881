// capture: reads frames from cameras (V4L2 devices) or video files and sends
// each as an Image on VideoStream, keyed by its source so one camera's frames
// stay in order on one partition.
//
//   capture [--source PATH|/dev/videoN|synthetic]... [--fps N] [--frames N]
//           [--encoding raw|jpeg] [--brokers HOST:PORT]
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#include <thread>

#include "channels.hpp"
#include "corps/logging.hpp"
#include "corps/shutdown.hpp"
#include "frame_codec.hpp"
#include "service.hpp"

namespace {

using namespace corps::pipeline;

constexpr const char* default_video = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

struct CaptureFlags {
  std::vector<std::string> sources;
  double fps = 0;
  std::int64_t frames = 0;
  std::string encoding = "raw";
  int jpeg_quality = 85;
};

// Frames from a file, a device, or (when nothing else can be had) a
// generated test pattern.
class FrameSource {
 public:
  explicit FrameSource(const std::string& location) : location_(location) {
    if (location == "synthetic") {
      id_ = "synthetic";
      fps_ = 10;
      return;
    }
    const bool device = location.rfind("/dev/video", 0) == 0;
    if (device) {
      capture_.open(std::stoi(location.substr(10)), cv::CAP_V4L2);
    } else {
      capture_.open(location);
    }
    if (!capture_.isOpened()) {
      throw corps::Exception(corps::Error(corps::Errc::invalid_argument, corps::Stage::config,
                                          "cannot open video source '" + location + "'"));
    }
    id_ = std::filesystem::path(location).stem().string();
    std::transform(id_.begin(), id_.end(), id_.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    fps_ = capture_.get(cv::CAP_PROP_FPS);
    if (!(fps_ > 0 && fps_ < 1000)) fps_ = 10;
  }

  const std::string& id() const { return id_; }
  double fps() const { return fps_; }

  bool read(cv::Mat& frame) {
    if (location_ != "synthetic") return capture_.read(frame) && !frame.empty();
    // A moving ball on a gradient: only when no real video can be had.
    frame.create(480, 640, CV_8UC3);
    for (int y = 0; y < frame.rows; ++y) frame.row(y).setTo(cv::Scalar(y / 2, 64, 255 - y / 2));
    const int x = static_cast<int>((tick_ * 12) % frame.cols);
    cv::circle(frame, {x, 240}, 40, cv::Scalar(0, 255, 255), cv::FILLED);
    ++tick_;
    return true;
  }

 private:
  std::string location_;
  std::string id_;
  double fps_ = 10;
  cv::VideoCapture capture_;
  std::int64_t tick_ = 0;
};

void run_source(corps::pipeline::Service& service, FrameSource& source, const CaptureFlags& flags,
                FrameEncoding encoding) {
  const double fps = flags.fps > 0 ? std::min(flags.fps, source.fps()) : source.fps();
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / fps));
  corps::logger()->info("capturing '{}' at {:.1f} frames/s{}", source.id(), fps,
                        flags.frames > 0 ? " for " + std::to_string(flags.frames) + " frames" : "");
  auto next = std::chrono::steady_clock::now();
  cv::Mat frame;
  for (std::int64_t n = 0; (flags.frames == 0 || n < flags.frames) && !corps::shutdown_requested();
       ++n) {
    if (!source.read(frame)) break;
    const auto captured = std::chrono::steady_clock::now();
    auto image = encode_frame(frame, encoding, n, source.id(), flags.jpeg_quality);
    // A JPEG is compressed already: stored, not deflated again.
    service.producer().send(
        std::string(video_channel), image,
        {.key = source.id(),
         .compressibility = encoding == FrameEncoding::jpeg ? corps::Compressibility::already_compressed
                                                            : corps::Compressibility::normal},
        [&service, captured](const corps::DeliveryReport& report) {
          if (report.ok()) {
            service.count("acked");
            service.latency("capture->acked", std::chrono::steady_clock::now() - captured);
          } else {
            service.count("failed");
            corps::logger()->error("{}", report.error().to_string());
          }
        });
    service.count("captured");
    next += period;
    std::this_thread::sleep_until(next);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capture: send camera or video frames as Images on VideoStream"};
  app.option_defaults()->always_capture_default();  // --help shows every default
  ServiceFlags service_flags;
  CaptureFlags flags;
  add_service_flags(app, service_flags);
  app.add_option("--source,-s", flags.sources,
                 "A video file, a V4L2 device (/dev/videoN) or 'synthetic'; repeat for several "
                 "(default: opencv-doc's vtest.avi)");
  app.add_option("--fps", flags.fps, "Frames per second at most (default: the source's rate)")
      ->check(CLI::PositiveNumber);
  app.add_option("--frames,-n", flags.frames, "Frames per source (default: until the source ends)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--encoding", flags.encoding,
                 "Pixels as 'raw' BGR8 (MessageCorps's layout) or 'jpeg'")
      ->check(CLI::IsMember({"raw", "jpeg"}));
  app.add_option("--jpeg-quality", flags.jpeg_quality, "JPEG quality")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  try {
    corps::install_shutdown_handlers();
    if (flags.sources.empty()) {
      flags.sources.push_back(std::filesystem::exists(default_video) ? default_video : "synthetic");
      if (flags.sources.back() == "synthetic") {
        corps::logger()->warn(
            "{} not found (Debian package opencv-doc); sending a synthetic pattern", default_video);
      }
    }
    std::vector<std::unique_ptr<FrameSource>> sources;
    for (const auto& location : flags.sources)
      sources.push_back(std::make_unique<FrameSource>(location));
    Service service("capture", service_flags);
    const auto encoding = flags.encoding == "jpeg" ? FrameEncoding::jpeg : FrameEncoding::raw_bgr8;
    std::atomic<std::size_t> running{sources.size()};
    std::vector<std::thread> threads;
    for (auto& source : sources) {
      threads.emplace_back([&, &source = *source] {
        run_source(service, source, flags, encoding);
        --running;
      });
    }
    // Progress goes out once a second while the sources run.
    while (running > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      service.tick();
    }
    for (auto& thread : threads) thread.join();
    service.finish();
    std::cout << "captured " << service.counter("captured") << " frames, "
              << service.counter("acked") << " acknowledged, " << service.counter("failed")
              << " failed\n";
    return service.counter("failed") == 0 ? 0 : 1;
  } catch (const corps::Exception& e) {
    std::cerr << "capture: " << e.what() << '\n';
    return 1;
  }
}
