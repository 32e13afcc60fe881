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
  /// Loading the same records again with the same loader, after it refused
  /// a decompression bomb: a bomb must not tax the records after it.
  proto::Throughput load_after_bomb;
};

/// Encodes `records` samples of `payload`, then loads as many, then has the
/// loader refuse a zlib bomb (128 MiB of zeros, twice its cap) and loads
/// them again. Throws std::runtime_error if one fails.
[[nodiscard]] CodecResult measure_codec(Payload& payload, std::size_t records, Progress& progress);

}  // namespace corps::bench
