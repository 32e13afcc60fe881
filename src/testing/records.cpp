#include "corps/testing/records.hpp"

#include <utility>

#include "detail/record_access.hpp"

namespace corps::testing {

Record make_record(RawRecord raw, Result<std::unique_ptr<google::protobuf::Message>> decoded,
                   const ChannelBinding* binding) {
  return detail::RecordAccess::make(std::move(raw.location), std::move(raw.key),
                                    std::move(raw.value), std::move(raw.headers),
                                    raw.timestamp_ms, std::move(decoded), binding);
}

}  // namespace corps::testing
