#include "detector.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <opencv2/videoio.hpp>

namespace {

using corps::pipeline::make_detector;

const std::string videos = "/usr/share/doc/opencv-doc/examples/data/";

// How many of the frames `frames` of `video` have at least one `label`.
int frames_with(const std::string& video, const std::string& detector_name,
                const std::string& label, const std::vector<int>& frames) {
  cv::VideoCapture capture(videos + video);
  EXPECT_TRUE(capture.isOpened()) << "needs Debian's opencv-doc";
  auto detector = make_detector(detector_name);
  int found = 0;
  int index = 0;
  cv::Mat frame;
  for (int wanted : frames) {
    while (index <= wanted && capture.read(frame)) ++index;
    const auto detections = detector->detect(frame);
    found += std::any_of(detections.begin(), detections.end(),
                         [&](const auto& d) { return d.label == label; });
  }
  return found;
}

TEST(Detector, TheHogPeopleDetectorFindsPeopleInMostVtestFrames) {
  const std::vector<int> frames{0, 80, 160, 240, 320, 400, 480, 560, 640, 720};
  EXPECT_GE(frames_with("vtest.avi", "people", "person", frames), 8);
}

TEST(Detector, TheFaceCascadeFindsFacesInMegamind) {
  const std::vector<int> frames{0, 10, 20, 30, 40, 50, 60, 70, 80, 90};
  EXPECT_GE(frames_with("Megamind.avi", "faces", "face", frames), 5);
}

TEST(Detector, BoxesLieInsideTheFrame) {
  cv::VideoCapture capture(videos + "vtest.avi");
  cv::Mat frame;
  ASSERT_TRUE(capture.read(frame));
  auto detector = make_detector("people+faces");
  EXPECT_EQ(detector->name(), "hog-people+haar-face");
  for (const auto& detection : detector->detect(frame)) {
    EXPECT_EQ(detection.box & cv::Rect(0, 0, frame.cols, frame.rows), detection.box);
    EXPECT_GT(detection.box.area(), 0);
  }
}

TEST(Detector, FindsNoPeopleInABlankFrame) {
  auto detector = make_detector("people");
  EXPECT_TRUE(detector->detect(cv::Mat(480, 640, CV_8UC3, cv::Scalar(128, 128, 128))).empty());
}

TEST(Detector, AnUnknownNameIsAConfigError) {
  try {
    (void)make_detector("people+cats");
    FAIL();
  } catch (const corps::Exception& e) {
    EXPECT_EQ(e.error().stage(), corps::Stage::config);
    EXPECT_NE(std::string(e.what()).find("'cats'"), std::string::npos);
  }
}

TEST(Detector, AMissingCascadeFileIsNamed) {
  setenv("CORPS_HAARCASCADES", "/nonexistent", 1);
  try {
    (void)make_detector("faces");
    ADD_FAILURE();
  } catch (const corps::Exception& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/haarcascade_frontalface_default.xml"),
              std::string::npos);
  }
  unsetenv("CORPS_HAARCASCADES");
}

}  // namespace
