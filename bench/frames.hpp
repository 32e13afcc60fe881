// Video frames to send: real ones from the image pipeline's default video
// (opencv-doc's vtest.avi, people walking) scaled to 640x480, or, when
// OpenCV was not found at configure time or the video is missing, a
// synthetic picture; the benchmark says which.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace corps::bench {

/// The image pipeline's default video (Debian package opencv-doc).
inline constexpr const char* default_video = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";

/// Frames as raw 8-bit BGR pixels, rows top to bottom (the pipeline's
/// PIXEL_FORMAT_RAW_BGR8).
struct FrameSet {
  int width = 640;
  int height = 480;
  std::vector<std::string> pixels;
  /// Where they came from, for the report.
  std::string source;
};

/// The first `count` frames of `video`, scaled to 640x480; synthetic frames
/// if the video cannot be read or OpenCV is not available.
[[nodiscard]] FrameSet load_frames(const std::string& video, std::size_t count);

}  // namespace corps::bench
