// Frames between OpenCV and corps.proto.Image: raw BGR8 (MessageCorps's
// layout, the default), grey or JPEG, with every field checked on the way
// back so a bad frame becomes a typed error instead of a crash.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

#include "corps/error.hpp"
#include "corps/image.pb.h"
#include "corps/result.hpp"

namespace corps::pipeline {

/// How capture writes pixels into an Image.
enum class FrameEncoding { raw_bgr8, jpeg };

/// `bgr` (8-bit, 3 channels) as an Image of `source`'s frame `frame`.
[[nodiscard]] proto::Image encode_frame(const cv::Mat& bgr, FrameEncoding encoding,
                                        std::int64_t frame, const std::string& source,
                                        int jpeg_quality = 85);

/// The pixels of `image` as an 8-bit, 3-channel BGR matrix. Errors
/// (Stage::handler, at `where`): missing dimensions or data
/// (invalid_argument), a raw size that is not width x height x channels
/// (corrupt_data), a JPEG that does not decode or whose size differs from
/// width x height (corrupt_data), an unknown pixel format (unsupported).
[[nodiscard]] Result<cv::Mat> decode_frame(const proto::Image& image, const RecordLocation& where);

/// `bgr` as JPEG bytes.
[[nodiscard]] std::string to_jpeg(const cv::Mat& bgr, int quality = 85);

}  // namespace corps::pipeline
