#include "frames.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>

#ifdef CORPS_BENCH_HAVE_OPENCV
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#endif

namespace corps::bench {

namespace {

// A gradient with a moving disc, like the pipeline's synthetic source, plus
// sensor-like noise: without it zlib would shrink the frame far more than
// it shrinks a camera's, and the comparison would flatter compression.
std::string synthetic_frame(int width, int height, std::size_t index) {
  std::string pixels(static_cast<std::size_t>(width) * height * 3, '\0');
  std::uint32_t noise = 2463534242u + static_cast<std::uint32_t>(index);
  const int centre_x = static_cast<int>((index * 12) % static_cast<std::size_t>(width));
  std::size_t at = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      noise ^= noise << 13;  // xorshift32
      noise ^= noise >> 17;
      noise ^= noise << 5;
      const int jitter = static_cast<int>(noise & 7u);
      const bool in_disc = (x - centre_x) * (x - centre_x) + (y - 240) * (y - 240) < 40 * 40;
      const int blue = in_disc ? 0 : y / 2;
      const int green = in_disc ? 255 : 64;
      const int red = in_disc ? 255 : 255 - y / 2;
      pixels[at++] = static_cast<char>(std::min(255, blue + jitter));
      pixels[at++] = static_cast<char>(std::min(255, green + jitter));
      pixels[at++] = static_cast<char>(std::min(255, red + jitter));
    }
  }
  return pixels;
}

FrameSet synthetic_frames(std::size_t count, const std::string& why) {
  FrameSet frames;
  for (std::size_t i = 0; i < count; ++i)
    frames.pixels.push_back(synthetic_frame(frames.width, frames.height, i));
  frames.source = "synthetic 640x480 gradient with noise (" + why + ")";
  return frames;
}

}  // namespace

FrameSet load_frames(const std::string& video, std::size_t count) {
#ifdef CORPS_BENCH_HAVE_OPENCV
  if (!std::filesystem::exists(video)) return synthetic_frames(count, video + " not found");
  cv::VideoCapture capture(video);
  if (!capture.isOpened()) return synthetic_frames(count, "OpenCV cannot open " + video);
  FrameSet frames;
  cv::Mat frame;
  cv::Mat scaled;
  while (frames.pixels.size() < count && capture.read(frame) && !frame.empty()) {
    cv::resize(frame, scaled, cv::Size(frames.width, frames.height), 0, 0, cv::INTER_AREA);
    frames.pixels.emplace_back(reinterpret_cast<const char*>(scaled.data),
                               scaled.total() * scaled.elemSize());
  }
  if (frames.pixels.empty()) return synthetic_frames(count, "no frame could be read from " + video);
  frames.source = video + ": first " + std::to_string(frames.pixels.size()) + " frames (" +
                  std::to_string(frame.cols) + "x" + std::to_string(frame.rows) +
                  ") scaled to 640x480, raw BGR8";
  return frames;
#else
  (void)video;
  return synthetic_frames(count, "built without OpenCV");
#endif
}

}  // namespace corps::bench
