// The registry's look-ups as the library's own stages make them: a failure
// names the stage that looked (encode for a send, subscribe for a consumer),
// where the public ChannelRegistry::at and check say Stage::bind.
#pragma once

#include <google/protobuf/descriptor.h>

#include <string>
#include <string_view>

#include "corps/error.hpp"
#include "corps/registry.hpp"

namespace corps::detail {

/// The binding of `channel`; throws corps::Exception (unknown_channel,
/// `stage`) naming the channels that are bound.
const ChannelBinding& bound_channel(const ChannelRegistry& registry, std::string_view channel,
                                    Stage stage);

/// The binding of `channel`, which must carry `type`; throws
/// corps::Exception (type_mismatch, `stage`) naming the channel and both
/// types.
const ChannelBinding& bound_channel_of_type(const ChannelRegistry& registry,
                                            std::string_view channel,
                                            const google::protobuf::Descriptor* type, Stage stage);

/// The types `channel` carries, for messages: "a.A", "a.A or b.B", "a.A,
/// b.B or c.C".
std::string carried_types(const ChannelRegistry& registry, std::string_view channel);

}  // namespace corps::detail
