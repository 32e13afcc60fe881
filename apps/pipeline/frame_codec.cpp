#include "frame_codec.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace corps::pipeline {

namespace {

Error frame_error(Errc code, const proto::Image& image, const RecordLocation& where,
                  const std::string& detail) {
  return Error(
      code, Stage::handler,
      "bad frame " + std::to_string(image.frame()) + " from '" + image.source() + "': " + detail,
      where);
}

std::string dims(const proto::Image& image) {
  return std::to_string(image.width()) + "x" + std::to_string(image.height());
}

}  // namespace

std::string to_jpeg(const cv::Mat& bgr, int quality) {
  std::vector<unsigned char> bytes;
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return {bytes.begin(), bytes.end()};
}

proto::Image encode_frame(const cv::Mat& bgr, FrameEncoding encoding, std::int64_t frame,
                          const std::string& source, int jpeg_quality) {
  proto::Image image;
  image.set_width(bgr.cols);
  image.set_height(bgr.rows);
  image.set_frame(frame);
  image.set_source(source);
  switch (encoding) {
    case FrameEncoding::raw_bgr8: {
      const cv::Mat packed = bgr.isContinuous() ? bgr : bgr.clone();
      image.set_image_data(packed.data, packed.total() * packed.elemSize());
      image.set_pixel_format(proto::PIXEL_FORMAT_RAW_BGR8);
      break;
    }
    case FrameEncoding::jpeg:
      image.set_image_data(to_jpeg(bgr, jpeg_quality));
      image.set_pixel_format(proto::PIXEL_FORMAT_JPEG);
      break;
  }
  return image;
}

Result<cv::Mat> decode_frame(const proto::Image& image, const RecordLocation& where) {
  if (image.width() <= 0 || image.height() <= 0) {
    return frame_error(Errc::invalid_argument, image, where,
                       "width and height must be positive, found " + dims(image));
  }
  if (image.image_data().empty()) {
    return frame_error(Errc::invalid_argument, image, where, "no image_data");
  }
  const auto& data = image.image_data();
  const auto pixels =
      static_cast<std::size_t>(image.width()) * static_cast<std::size_t>(image.height());
  switch (image.pixel_format()) {
    case proto::PIXEL_FORMAT_RAW_BGR8:
    case proto::PIXEL_FORMAT_RAW_GRAY8: {
      const bool grey = image.pixel_format() == proto::PIXEL_FORMAT_RAW_GRAY8;
      const std::size_t expected = pixels * (grey ? 1 : 3);
      if (data.size() != expected) {
        return frame_error(Errc::corrupt_data, image, where,
                           std::to_string(data.size()) + " bytes of " + (grey ? "GRAY8" : "BGR8") +
                               " pixels for " + dims(image) + ", expected " +
                               std::to_string(expected));
      }
      cv::Mat view(image.height(), image.width(), grey ? CV_8UC1 : CV_8UC3,
                   const_cast<char*>(data.data()));
      cv::Mat bgr;
      if (grey) {
        cv::cvtColor(view, bgr, cv::COLOR_GRAY2BGR);
      } else {
        bgr = view.clone();
      }
      return bgr;
    }
    case proto::PIXEL_FORMAT_JPEG: {
      const cv::Mat bytes(1, static_cast<int>(data.size()), CV_8UC1,
                          const_cast<char*>(data.data()));
      cv::Mat bgr = cv::imdecode(bytes, cv::IMREAD_COLOR);
      if (bgr.empty()) {
        return frame_error(Errc::corrupt_data, image, where,
                           "the " + std::to_string(data.size()) + "-byte JPEG does not decode");
      }
      if (bgr.cols != image.width() || bgr.rows != image.height()) {
        return frame_error(Errc::corrupt_data, image, where,
                           "the JPEG is " + std::to_string(bgr.cols) + "x" +
                               std::to_string(bgr.rows) + ", the Image says " + dims(image));
      }
      return bgr;
    }
    case proto::PixelFormat_INT_MIN_SENTINEL_DO_NOT_USE_:
    case proto::PixelFormat_INT_MAX_SENTINEL_DO_NOT_USE_: break;
  }
  return frame_error(Errc::unsupported, image, where,
                     "unknown pixel_format " + std::to_string(image.pixel_format()));
}

}  // namespace corps::pipeline
