// The codec alone, without Kafka: MessageHandler::encode (stamp, serialize,
// zlib) and MessageLoader::load (bounded inflate, parse, checks) on one
// thread, so a reader sees how much of corps's cost is the codec.
#pragma once

#include <array>
#include <cstddef>

#include "corps/headers.hpp"
#include "corps/message_loader.hpp"
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

/// The channel the codec alone encodes and loads on.
inline constexpr const char* codec_channel = "bench-codec";

/// Loads a payload's samples as a consumer gets them: the value, with its
/// corps-type header, and a corps-codec header unless the value is zlib or
/// framed for a schema registry (Payload::value_codec says zlib then). The
/// headers are made once, before any clock starts.
class SampleLoader {
 public:
  /// `payload` and `loader` (bound to codec_channel) must outlive it.
  SampleLoader(const Payload& payload, MessageLoader& loader);
  /// Loads sample `index` as the record at offset `index`; returns the size
  /// of its value. Throws std::runtime_error if it does not load.
  std::size_t load(std::size_t index);

 private:
  const Payload& payload_;
  MessageLoader& loader_;
  std::array<Headers, 4> headers_of_;  // by Codec's value
};

/// Encodes `records` samples of `payload`, then loads as many, then has the
/// loader refuse a zlib bomb (128 MiB of zeros, twice its cap) and loads
/// them again. Throws std::runtime_error if one fails.
[[nodiscard]] CodecResult measure_codec(Payload& payload, std::size_t records, Progress& progress);

}  // namespace corps::bench
