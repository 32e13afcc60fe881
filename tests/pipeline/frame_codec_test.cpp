#include "frame_codec.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace {

using corps::Errc;
using corps::pipeline::decode_frame;
using corps::pipeline::encode_frame;
using corps::pipeline::FrameEncoding;

const corps::RecordLocation where{"VideoStream", 1, 42};

cv::Mat test_pattern() {
  cv::Mat frame(48, 64, CV_8UC3, cv::Scalar(10, 20, 30));
  cv::rectangle(frame, {8, 8, 20, 20}, cv::Scalar(0, 255, 0), cv::FILLED);
  return frame;
}

corps::Error error_of(const corps::proto::Image& image) {
  auto decoded = decode_frame(image, where);
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? corps::Error(Errc::invalid_argument, corps::Stage::config, "decoded")
                      : decoded.error();
}

TEST(FrameCodec, RawFramesRoundTripBitForBitInMessageCorpsLayout) {
  const auto frame = test_pattern();
  const auto image = encode_frame(frame, FrameEncoding::raw_bgr8, 7, "cam");
  EXPECT_EQ(image.pixel_format(), corps::proto::PIXEL_FORMAT_RAW_BGR8);
  EXPECT_EQ(image.image_data().size(), 64u * 48u * 3u);
  EXPECT_EQ(image.width(), 64);
  EXPECT_EQ(image.height(), 48);
  EXPECT_EQ(image.frame(), 7);
  EXPECT_EQ(image.source(), "cam");
  auto decoded = decode_frame(image, where);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(cv::norm(*decoded, frame, cv::NORM_INF), 0);
}

TEST(FrameCodec, JpegFramesRoundTripClosely) {
  const auto frame = test_pattern();
  const auto image = encode_frame(frame, FrameEncoding::jpeg, 1, "cam", 95);
  EXPECT_EQ(image.pixel_format(), corps::proto::PIXEL_FORMAT_JPEG);
  EXPECT_LT(image.image_data().size(), 64u * 48u * 3u);
  auto decoded = decode_frame(image, where);
  ASSERT_TRUE(decoded.ok());
  EXPECT_LT(cv::norm(*decoded, frame, cv::NORM_L1) / (64.0 * 48 * 3), 3.0);
}

TEST(FrameCodec, GreyFramesDecodeToBgr) {
  corps::proto::Image image;
  image.set_width(4);
  image.set_height(2);
  image.set_pixel_format(corps::proto::PIXEL_FORMAT_RAW_GRAY8);
  image.set_image_data(std::string(8, '\x80'));
  auto decoded = decode_frame(image, where);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->channels(), 3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(1, 3), cv::Vec3b(0x80, 0x80, 0x80));
}

TEST(FrameCodec, RefusesARawFrameOfTheWrongSizeSayingWhatWasExpected) {
  auto image = encode_frame(test_pattern(), FrameEncoding::raw_bgr8, 3, "cam");
  image.mutable_image_data()->pop_back();
  const auto error = error_of(image);
  EXPECT_EQ(error.code(), Errc::corrupt_data);
  EXPECT_EQ(error.stage(), corps::Stage::handler);
  EXPECT_EQ(error.location(), where);
  EXPECT_NE(error.message().find("9215 bytes of BGR8 pixels for 64x48, expected 9216"),
            std::string::npos)
      << error.message();
}

TEST(FrameCodec, RefusesAJpegThatDoesNotDecode) {
  auto image = encode_frame(test_pattern(), FrameEncoding::jpeg, 3, "cam");
  image.set_image_data("\xff\xd8 not really a jpeg");
  const auto error = error_of(image);
  EXPECT_EQ(error.code(), Errc::corrupt_data);
  EXPECT_NE(error.message().find("does not decode"), std::string::npos);
}

TEST(FrameCodec, RefusesAJpegWhoseSizeDisagreesWithTheImage) {
  auto image = encode_frame(test_pattern(), FrameEncoding::jpeg, 3, "cam");
  image.set_width(100);
  EXPECT_NE(error_of(image).message().find("the JPEG is 64x48, the Image says 100x48"),
            std::string::npos);
}

TEST(FrameCodec, RefusesMissingFields) {
  corps::proto::Image image;
  EXPECT_EQ(error_of(image).code(), Errc::invalid_argument);
  image.set_width(2);
  image.set_height(2);
  const auto error = error_of(image);
  EXPECT_EQ(error.code(), Errc::invalid_argument);
  EXPECT_NE(error.message().find("no image_data"), std::string::npos);
}

TEST(FrameCodec, RefusesAnUnknownPixelFormat) {
  auto image = encode_frame(test_pattern(), FrameEncoding::raw_bgr8, 3, "cam");
  image.set_pixel_format(static_cast<corps::proto::PixelFormat>(9));
  EXPECT_EQ(error_of(image).code(), Errc::unsupported);
}

}  // namespace
