// corps's own schemas a second time, in a descriptor pool of their own, so
// the fuzzers also reach the dynamic-message code that `corps consume
// --proto` and `corps produce --proto` run (reflection instead of generated
// parsers and setters).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <cstdlib>
#include <memory>

#include "corps/dead_letter.pb.h"
#include "corps/image.pb.h"
#include "corps/metadata.pb.h"
#include "corps/prediction.pb.h"

namespace corps::fuzz {

/// A pool holding copies of corps's schemas (corps.proto.Image, Prediction,
/// DeadLetter and MessageData), unrelated to the generated pool.
inline std::shared_ptr<const google::protobuf::DescriptorPool> dynamic_corps_types() {
  auto pool = std::make_shared<google::protobuf::DescriptorPool>();
  // Dependencies first: BuildFile needs every import already in the pool.
  for (const auto* file :
       {proto::MessageData::descriptor()->file(), proto::Image::descriptor()->file(),
        proto::Prediction::descriptor()->file(), proto::DeadLetter::descriptor()->file()}) {
    google::protobuf::FileDescriptorProto copy;
    file->CopyTo(&copy);
    // The fuzzers cannot run without their types: stop at once.
    if (pool->BuildFile(copy) == nullptr) std::abort();
  }
  return pool;
}

}  // namespace corps::fuzz
