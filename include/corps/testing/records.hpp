// make_record: a Record as a Consumer would hand it out, without a broker,
// for testing code that takes records (dead-letter routing, printers,
// handlers) in isolation.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps::testing {

/// A record as fetched, before decoding.
struct RecordParts {
  RecordLocation location;
  std::optional<std::string> key;
  std::optional<std::string> value;  ///< nullopt: a null value (a tombstone)
  Headers headers;
  std::int64_t timestamp_ms = -1;
};

/// The record of `parts` with `decoded`, a message or the error decoding gave.
/// `binding` is its channel's, if bound: metadata() reads through it.
[[nodiscard]] Record make_record(RecordParts parts,
                                 Result<std::unique_ptr<google::protobuf::Message>> decoded,
                                 const ChannelBinding* binding = nullptr);

}  // namespace corps::testing
