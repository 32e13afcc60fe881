// The client under test: corps's typed Producer (stamp, serialize, zlib,
// send) and Consumer (bounded inflate, parse, type and metadata checks), used
// as an application would use them.
#pragma once

#include <memory>
#include <string>

#include "client.hpp"

namespace corps::bench {

/// corps clients of `brokers`; their consumers also get the raw librdkafka
/// `consumer_properties`, their producers `compression_threads`
/// (ProducerOptions::compression_threads).
[[nodiscard]] std::unique_ptr<Client> make_corps_client(std::string brokers,
                                                        Properties consumer_properties,
                                                        unsigned compression_threads = 1,
                                                        unsigned decode_threads = 1);

}  // namespace corps::bench
