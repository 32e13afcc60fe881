// The pipeline's channels and the types they carry.
#pragma once

#include <string_view>

#include "corps/registry.hpp"

namespace corps::pipeline {

/// Frames from capture: corps.proto.Image, keyed by source.
inline constexpr std::string_view video_channel = "VideoStream";
/// What predict found: corps.proto.Prediction, keyed by source.
inline constexpr std::string_view predictions_channel = "Predictions";
/// Records no service could use: corps.proto.DeadLetter.
inline constexpr std::string_view dead_letters_channel = "DeadLetters";
/// Progress of each service: corps.pipeline.ServiceStatus.
inline constexpr std::string_view status_channel = "PipelineStatus";

/// A registry with the four channels bound.
[[nodiscard]] ChannelRegistry pipeline_registry();

}  // namespace corps::pipeline
