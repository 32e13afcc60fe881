// Object detectors for the predict service: real pre-trained models that
// Debian ships with OpenCV. HOG people detector (OpenCV's built-in SVM,
// trained on INRIA pedestrians) and Haar cascades from opencv-data.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "corps/error.hpp"

namespace corps::pipeline {

/// One object found in a frame.
struct Detection {
  std::string label;
  /// The model's confidence; scales differ between models.
  float score = 0;
  cv::Rect box;
};

/// Finds objects in BGR frames. Not thread-safe: one per thread.
class Detector {
 public:
  virtual ~Detector() = default;
  /// The objects in `bgr` (8-bit, 3 channels).
  [[nodiscard]] virtual std::vector<Detection> detect(const cv::Mat& bgr) = 0;
  /// What this detector is, e.g. "hog-people".
  [[nodiscard]] virtual const std::string& name() const = 0;
};

/// Where opencv-data's Haar cascades are (override with CORPS_HAARCASCADES).
[[nodiscard]] std::string haar_cascade_dir();

/// A detector by name: "people" (HOG), "faces" (Haar frontal face),
/// "fullbody" (Haar full body), or several joined with '+', e.g.
/// "people+faces". Throws corps::Exception (Stage::config) for an unknown
/// name or a cascade file that cannot be loaded, naming the file.
[[nodiscard]] std::unique_ptr<Detector> make_detector(std::string_view spec);

}  // namespace corps::pipeline
