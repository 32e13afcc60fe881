// The codec alone, without Kafka: MessageHandler::encode (stamp, serialize,
// zlib) and MessageLoader::load (bounded inflate, parse, checks) on one
// thread, so a reader sees how much of corps's cost is the codec.
#pragma once

#include <cstddef>

#include "corps_bench/results.pb.h"
#include "payloads.hpp"
#include "progress.hpp"

namespace corps::bench {

/// Encoding is the produce side, loading the consume side.
struct CodecResult {
  proto::Throughput encode;
  proto::Throughput load;
};

/// Encodes `records` samples of `payload`, then loads as many. Throws
/// std::runtime_error if one fails.
[[nodiscard]] CodecResult measure_codec(Payload& payload, std::size_t records, Progress& progress);

}  // namespace corps::bench
