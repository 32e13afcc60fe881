#include "corps/testing/records.hpp"

#include <utility>

#include "detail/record_access.hpp"

namespace corps::testing {

Record make_record(RecordParts parts, Result<std::unique_ptr<google::protobuf::Message>> decoded,
                   const ChannelBinding* binding) {
  return detail::RecordAccess::make(std::move(parts.location), std::move(parts.key),
                                    std::move(parts.value), std::move(parts.headers),
                                    parts.timestamp_ms, std::move(decoded), binding);
}

}  // namespace corps::testing
