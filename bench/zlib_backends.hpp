// zlib against libdeflate, both writing and reading the zlib format (RFC 1950)
// at the same level, on corps's own payloads: the measurement behind the
// choice of backend in src/codec.cpp. No broker, no corps codec, just the two
// libraries, each used the way a long-lived codec would (state allocated once).
#pragma once

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace corps::bench {

/// Serialized messages of one kind, to be compressed as record values are.
struct BackendSamples {
  /// "small" or "frame".
  std::string name;
  std::vector<std::string> messages;
  /// How many messages to compress and decompress per backend.
  std::size_t rounds = 0;
};

/// Compresses and decompresses every sample set with zlib and with libdeflate
/// at `zlib_level` (-1 is 6 for both) and prints a markdown table with the
/// speed ratio libdeflate/zlib. Throws std::runtime_error if a backend fails
/// or a round trip does not give the input back.
void compare_zlib_backends(const std::vector<BackendSamples>& sets, int zlib_level,
                           std::ostream& out);

}  // namespace corps::bench
