// Messages as JSON for the display's page: protobuf's JSON mapping, with
// 64-bit integers written as numbers rather than strings. A page's script
// reads numbers exactly up to 2^53, far past any count the pipeline keeps.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace corps::pipeline {

/// `message` as protobuf's JSON printer writes it (camelCase names, fields
/// at their defaults left out), but with int64 and uint64 fields, map values
/// and repeated elements as JSON numbers.
[[nodiscard]] std::string page_json(const google::protobuf::Message& message);

}  // namespace corps::pipeline
