#include "detail/embedded_topics.hpp"

#include <httplib.h>

#include "corps/config.hpp"
#include "corps/error.hpp"
#include "detail/kafka_client.hpp"

namespace corps::detail {

namespace {

// Through a `corps broker`'s control path: POST /topics/NAME?partitions=N
// [&replication_factor=R] answers 201, 409 if the topic exists, 400 if
// refused, with the reason as its body.
void create_through_control_path(const std::string& control, const TopicSpec& topic,
                                 std::chrono::milliseconds timeout) {
  httplib::Client client(control);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  std::string path = "/topics/" + topic.name + "?partitions=" + std::to_string(topic.partitions);
  if (topic.replication_factor > 0) {
    path += "&replication_factor=" + std::to_string(topic.replication_factor);
  }
  const auto response = client.Post(path);
  if (!response) {
    throw Exception(Error(Errc::broker_unreachable, Stage::admin,
                          "cannot create topic '" + topic.name +
                              "': the embedded broker's control path " + control +
                              " did not answer (" + httplib::to_string(response.error()) + ")"));
  }
  if (response->status == 201) return;
  std::string reason = response->body;
  while (!reason.empty() && reason.back() == '\n') reason.pop_back();
  const bool exists = response->status == 409;
  throw Exception(Error(exists ? Errc::kafka_error : Errc::invalid_argument, Stage::admin, reason,
                        std::nullopt,
                        exists ? KafkaError::topic_already_exists : KafkaError::invalid_argument));
}

}  // namespace

bool create_embedded_topic(std::string_view bootstrap, const TopicSpec& topic,
                           const std::map<std::string, std::string>& configs,
                           std::chrono::milliseconds timeout) {
  const std::string control = embedded_broker_control_url(bootstrap);
  if (!runs_embedded_broker(bootstrap) && control.empty()) return false;
  if (!configs.empty()) {
    throw Exception(Error(Errc::unsupported, Stage::admin,
                          "cannot create topic '" + topic.name +
                              "' with configs: the embedded broker keeps no topic configs "
                              "(create it without them, or use a real Kafka)"));
  }
  // Kafka's rule for topic names, which also keeps the control path's URL plain.
  if (!valid_topic_name(topic.name)) {
    throw Exception(Error(Errc::invalid_argument, Stage::admin,
                          "cannot create topic '" + topic.name.substr(0, 300) +
                              "': a topic name is 1 to 249 of a-z, A-Z, 0-9, '.', '_' and '-'",
                          std::nullopt, KafkaError::invalid_topic));
  }
  if (create_topic_in_embedded_broker(bootstrap, topic)) return true;
  create_through_control_path(control, topic, timeout);
  return true;
}

}  // namespace corps::detail
