#include "channels.hpp"

#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/prediction.pb.h"
#include "pipeline/status.pb.h"

namespace corps::pipeline {

ChannelRegistry pipeline_registry() {
  ChannelRegistry registry;
  registry.bind<proto::Image>(std::string(video_channel));
  registry.bind<proto::Prediction>(std::string(predictions_channel));
  registry.bind<proto::DeadLetter>(std::string(dead_letters_channel));
  registry.bind<ServiceStatus>(std::string(status_channel));
  return registry;
}

}  // namespace corps::pipeline
