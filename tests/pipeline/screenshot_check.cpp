// Inspects a screenshot of the display page: it must show a frame (many
// distinct colours, not a blank page) with detection boxes drawn in pure
// green. Prints what it measured; exits 0 if both hold.
//
//   screenshot_check PAGE.png [MIN_GREEN_PIXELS]
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <set>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: screenshot_check PAGE.png [MIN_GREEN_PIXELS]\n";
    return 2;
  }
  const cv::Mat page = cv::imread(argv[1], cv::IMREAD_COLOR);
  if (page.empty()) {
    std::cerr << "screenshot_check: cannot read " << argv[1] << '\n';
    return 1;
  }
  const long min_green = argc > 2 ? std::stol(argv[2]) : 100;
  long green = 0;
  std::set<int> colours;
  for (int y = 0; y < page.rows; ++y) {
    for (int x = 0; x < page.cols; ++x) {
      const auto& p = page.at<cv::Vec3b>(y, x);  // B, G, R
      if (p[1] > 200 && p[0] < 90 && p[2] < 90) ++green;
      colours.insert((p[0] >> 3) << 10 | (p[1] >> 3) << 5 | (p[2] >> 3));
    }
  }
  std::cout << page.cols << "x" << page.rows << " page, " << colours.size() << " distinct colours, "
            << green << " box-green pixels\n";
  return colours.size() > 500 && green >= min_green ? 0 : 1;
}
