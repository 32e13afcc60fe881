// Topics made in an embedded broker at run time. librdkafka's mock cluster
// answers no CreateTopics, so Admin::create_topic reaches the broker
// another way: an EmbeddedBroker of this process directly, a `corps broker`
// process through the control path it names in the address file.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

#include "corps/broker.hpp"

namespace corps::detail {

/// Creates `topic` in the EmbeddedBroker this process runs at `bootstrap`
/// (replication_factor <= 0: the brokers' count, at most 3); false if it
/// runs none there. Throws as EmbeddedBroker::create_topic does.
bool create_topic_in_embedded_broker(std::string_view bootstrap, TopicSpec topic);

/// Creates `topic` in the embedded broker at `bootstrap`, in this process or
/// a `corps broker`'s; false if `bootstrap` is neither. Throws
/// corps::Exception (Stage::admin): configs, which an embedded broker does
/// not keep (unsupported); a topic that exists (KafkaError::
/// topic_already_exists); a name or count it refuses (invalid_argument); a
/// control path that does not answer within `timeout` (broker_unreachable).
bool create_embedded_topic(std::string_view bootstrap, const TopicSpec& topic,
                           const std::map<std::string, std::string>& configs,
                           std::chrono::milliseconds timeout);

}  // namespace corps::detail
