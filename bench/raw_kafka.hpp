// The baseline: librdkafka's C API used directly, sending the very bytes
// corps would send (the zlib value, the corps-type and traceparent headers) with the same
// producer settings as corps::Producer, and reading them back with assign().
// Whatever corps costs beyond this is corps's own per-message work.
#pragma once

#include <memory>
#include <string>

#include "client.hpp"

namespace corps::bench {

/// Raw librdkafka clients of `brokers`; their consumers also get
/// `consumer_properties`.
[[nodiscard]] std::unique_ptr<Client> make_raw_client(std::string brokers,
                                                      Properties consumer_properties);

}  // namespace corps::bench
