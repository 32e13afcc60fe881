// The one door to Record's constructor: records are assembled by the
// consumer (and the test kit's make_record), never by applications, so the
// constructor stays out of the public API.
#pragma once

#include <google/protobuf/message.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "corps/error.hpp"
#include "corps/headers.hpp"
#include "corps/record.hpp"
#include "corps/registry.hpp"
#include "corps/result.hpp"

namespace corps::detail {

struct RecordAccess {
  /// A record of `location` as fetched, with what decoding it gave.
  /// `binding` is its channel's (nullptr if the channel is not bound): it
  /// says where the metadata is.
  static Record make(RecordLocation location, std::optional<std::string> key,
                     std::optional<std::string> value, Headers headers,
                     std::int64_t timestamp_ms,
                     Result<std::unique_ptr<google::protobuf::Message>> decoded,
                     const ChannelBinding* binding) {
    return Record(std::move(location), std::move(key), std::move(value), std::move(headers),
                  timestamp_ms, std::move(decoded),
                  binding != nullptr ? binding->metadata_field() : nullptr);
  }
};

}  // namespace corps::detail
