#include "corps/admin.hpp"

#include <algorithm>
#include <set>
#include <tuple>

#include "corps/config.hpp"
#include "detail/embedded_topics.hpp"
#include "detail/kafka_client.hpp"

namespace corps {

namespace {

// What the embedded broker cannot do, said plainly.
Error admin_error(rd_kafka_resp_err_t err, const std::string& request, const std::string& what,
                  const std::string& detail) {
  // The embedded broker names no controller, so librdkafka gives up waiting
  // for one; a real cluster without a reachable controller looks the same.
  const bool no_controller =
      err == RD_KAFKA_RESP_ERR__TIMED_OUT && detail.find("controller") != std::string::npos;
  const bool unsupported = err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE ||
                           err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION ||
                           err == RD_KAFKA_RESP_ERR_INVALID_REQUEST || no_controller;
  if (unsupported) {
    return Error(Errc::unsupported, Stage::admin,
                 "cannot " + what + ": the broker does not support " + request +
                     (no_controller ? " (no controller answered)" : "") +
                     "; the embedded broker, librdkafka's mock cluster, answers no topic admin "
                     "requests: corps creates its topics (Admin::create_topic, `corps topics "
                     "create`), but it cannot add partitions, delete topics or records, or keep "
                     "configs; a real Kafka cluster does all",
                 std::nullopt, detail::kafka_error_of(err));
  }
  return Error(err == RD_KAFKA_RESP_ERR__TIMED_OUT ? Errc::timed_out : Errc::kafka_error,
               Stage::admin,
               "cannot " + what + ": " + (detail.empty() ? rd_kafka_err2str(err) : detail),
               std::nullopt, detail::kafka_error_of(err));
}

}  // namespace

struct Admin::Impl {
  AdminOptions options;
  detail::KafkaPtr client;
  detail::QueuePtr queue;

  detail::AdminOptionsPtr request_options(rd_kafka_admin_op_t op) {
    detail::AdminOptionsPtr made(rd_kafka_AdminOptions_new(client.get(), op));
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(made.get(), static_cast<int>(options.timeout.count()),
                                              errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(
        made.get(), static_cast<int>(options.timeout.count()), errstr, sizeof errstr);
    return made;
  }

  // The embedded broker answers none of the topic admin requests: say so at
  // once, not after the request timeout.
  void refuse_on_embedded_broker(const std::string& request, const std::string& what) const {
    if (is_embedded_broker(options.brokers)) {
      throw Exception(admin_error(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, request, what, ""));
    }
  }

  // Waits for the result event of the request just sent on `queue`.
  detail::EventPtr wait(const std::string& request, const std::string& what) {
    detail::EventPtr event(
        rd_kafka_queue_poll(queue.get(), static_cast<int>(options.timeout.count()) + 1000));
    if (!event)
      throw Exception(admin_error(RD_KAFKA_RESP_ERR__TIMED_OUT, request, what, "no answer"));
    if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(admin_error(err, request, what, rd_kafka_event_error_string(event.get())));
    }
    return event;
  }

  void check_topic_results(const rd_kafka_topic_result_t** results, std::size_t count,
                           const std::string& request, const std::string& what) {
    for (std::size_t i = 0; i < count; ++i) {
      const auto err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* message = rd_kafka_topic_result_error_string(results[i]);
        throw Exception(admin_error(err, request, what, message != nullptr ? message : ""));
      }
    }
  }

  void check_resource(const rd_kafka_ConfigResource_t* resource, const std::string& request,
                      const std::string& what) {
    const auto err = rd_kafka_ConfigResource_error(resource);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    const char* message = rd_kafka_ConfigResource_error_string(resource);
    throw Exception(admin_error(err, request, what, message != nullptr ? message : ""));
  }

  detail::MetadataPtr metadata(const std::string& topic) {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_topic_t* handle =
        topic.empty() ? nullptr : rd_kafka_topic_new(client.get(), topic.c_str(), nullptr);
    const auto err = rd_kafka_metadata(client.get(), topic.empty() ? 1 : 0, handle, &raw,
                                       static_cast<int>(options.timeout.count()));
    if (handle != nullptr) rd_kafka_topic_destroy(handle);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(admin_error(err, "Metadata",
                                  topic.empty() ? "list topics" : "describe '" + topic + "'", ""));
    }
    return detail::MetadataPtr(raw);
  }
};

Admin::Admin(AdminOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  detail::check_brokers(impl_->options.brokers, "admin");
  detail::Properties properties{{"bootstrap.servers", impl_->options.brokers},
                                {"client.id", "corps-admin"}};
  for (const auto& [name, value] : impl_->options.properties) properties[name] = value;
  impl_->client = detail::make_client(RD_KAFKA_PRODUCER, detail::make_conf(properties));
  impl_->queue.reset(rd_kafka_queue_new(impl_->client.get()));
  detail::wait_for_brokers(impl_->client.get(), impl_->options.brokers, impl_->options.timeout);
}

Admin::~Admin() = default;

std::vector<BrokerInfo> Admin::brokers() {
  const auto metadata = impl_->metadata("");
  std::vector<BrokerInfo> out;
  for (int i = 0; i < metadata->broker_cnt; ++i) {
    out.push_back({metadata->brokers[i].id, metadata->brokers[i].host, metadata->brokers[i].port});
  }
  return out;
}

std::vector<TopicInfo> Admin::list_topics() {
  const auto metadata = impl_->metadata("");
  std::vector<TopicInfo> out;
  for (int t = 0; t < metadata->topic_cnt; ++t) {
    const auto& topic = metadata->topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    TopicInfo info{topic.topic, {}};
    for (int p = 0; p < topic.partition_cnt; ++p) {
      const auto& partition = topic.partitions[p];
      PartitionInfo part{partition.id, partition.leader, {}, {}};
      part.replicas.assign(partition.replicas, partition.replicas + partition.replica_cnt);
      part.in_sync_replicas.assign(partition.isrs, partition.isrs + partition.isr_cnt);
      info.partitions.push_back(std::move(part));
    }
    std::sort(info.partitions.begin(), info.partitions.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

TopicInfo Admin::describe_topic(const std::string& topic) {
  for (auto& info : list_topics()) {
    if (info.name == topic) return info;
  }
  throw Exception(Error(Errc::unknown_channel, Stage::admin,
                        "no topic '" + topic + "' on " + impl_->options.brokers));
}

std::map<std::string, std::string> Admin::topic_configs(const std::string& topic) {
  const std::string what = "read the configs of '" + topic + "'";
  impl_->refuse_on_embedded_broker("DescribeConfigs", what);
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(impl_->client.get(), &resource, 1, options.get(), impl_->queue.get());
  rd_kafka_ConfigResource_destroy(resource);
  const auto event = impl_->wait("DescribeConfigs", what);
  std::size_t count = 0;
  const auto** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(event.get()), &count);
  std::map<std::string, std::string> configs;
  for (std::size_t i = 0; i < count; ++i) {
    impl_->check_resource(resources[i], "DescribeConfigs", what);
    std::size_t entries = 0;
    const auto** config = rd_kafka_ConfigResource_configs(resources[i], &entries);
    for (std::size_t j = 0; j < entries; ++j) {
      const char* value = rd_kafka_ConfigEntry_value(config[j]);
      configs[rd_kafka_ConfigEntry_name(config[j])] = value != nullptr ? value : "";
    }
  }
  return configs;
}

std::vector<GroupLag> Admin::group_lag(const std::string& group,
                                       const std::vector<std::string>& topics) {
  const std::string what = "read the offsets of group '" + group + "'";
  if (group.empty()) {
    throw Exception(Error(Errc::invalid_argument, Stage::admin, "cannot " + what + ": no group"));
  }
  std::vector<TopicInfo> chosen;
  if (topics.empty()) {
    for (auto& topic : list_topics()) {
      // Kafka's own topics (__consumer_offsets, ...) hold no one's records.
      if (topic.name.rfind("__", 0) != 0) chosen.push_back(std::move(topic));
    }
  } else {
    for (const auto& name : topics) chosen.push_back(describe_topic(name));
  }
  // Committed offsets are the group coordinator's to tell, and only a
  // consumer of the group may ask (OffsetFetch). This one never joins, so
  // the group's members are not disturbed.
  detail::Properties properties{{"bootstrap.servers", impl_->options.brokers},
                                {"client.id", "corps-admin"},
                                {"group.id", group},
                                {"enable.auto.commit", "false"}};
  for (const auto& [name, value] : impl_->options.properties) properties[name] = value;
  const auto reader = detail::make_client(RD_KAFKA_CONSUMER, detail::make_conf(properties));
  detail::PartitionListPtr asked(rd_kafka_topic_partition_list_new(0));
  for (const auto& topic : chosen) {
    for (const auto& partition : topic.partitions) {
      rd_kafka_topic_partition_list_add(asked.get(), topic.name.c_str(), partition.id);
    }
  }
  const auto timeout = static_cast<int>(impl_->options.timeout.count());
  if (asked->cnt > 0) {
    const auto err = rd_kafka_committed(reader.get(), asked.get(), timeout);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(admin_error(err, "OffsetFetch", what, rd_kafka_err2str(err)));
    }
  }
  // Unasked, the topics shown are those the group committed in, each
  // whole, as kafka-consumer-groups --describe shows them.
  std::set<std::string> committed_in;
  for (int i = 0; i < asked->cnt; ++i) {
    if (asked->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR && asked->elems[i].offset >= 0) {
      committed_in.insert(asked->elems[i].topic);
    }
  }
  std::vector<GroupLag> out;
  for (int i = 0; i < asked->cnt; ++i) {
    const auto& entry = asked->elems[i];
    if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(
          admin_error(entry.err, "OffsetFetch",
                      what + " in " + entry.topic + " [" + std::to_string(entry.partition) + "]",
                      rd_kafka_err2str(entry.err)));
    }
    const std::int64_t committed = entry.offset >= 0 ? entry.offset : -1;
    if (topics.empty() && !committed_in.contains(entry.topic)) continue;
    GroupLag lag{.topic = entry.topic, .partition = entry.partition, .committed = committed};
    const auto err = detail::query_watermarks(reader.get(), entry.topic, entry.partition,
                                              lag.start, lag.end, impl_->options.timeout);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw Exception(admin_error(err, "ListOffsets",
                                  "read the end of " + std::string(entry.topic) + " [" +
                                      std::to_string(entry.partition) + "]",
                                  rd_kafka_err2str(err)));
    }
    out.push_back(std::move(lag));
  }
  std::sort(out.begin(), out.end(), [](const GroupLag& a, const GroupLag& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return out;
}

void Admin::create_topic(const TopicSpec& topic,
                         const std::map<std::string, std::string>& configs) {
  const std::string what = "create topic '" + topic.name + "'";
  if (detail::create_embedded_topic(impl_->options.brokers, topic, configs,
                                    impl_->options.timeout)) {
    return;
  }
  impl_->refuse_on_embedded_broker("CreateTopics", what);
  char errstr[512];
  rd_kafka_NewTopic_t* request = rd_kafka_NewTopic_new(
      topic.name.c_str(), topic.partitions, topic.replication_factor, errstr, sizeof errstr);
  if (request == nullptr)
    throw Exception(Error(Errc::invalid_argument, Stage::admin, "cannot " + what + ": " + errstr));
  for (const auto& [name, value] : configs)
    rd_kafka_NewTopic_set_config(request, name.c_str(), value.c_str());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_CreateTopics(impl_->client.get(), &request, 1, options.get(), impl_->queue.get());
  rd_kafka_NewTopic_destroy(request);
  const auto event = impl_->wait("CreateTopics", what);
  std::size_t count = 0;
  const auto** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  impl_->check_topic_results(results, count, "CreateTopics", what);
}

void Admin::add_partitions(const std::string& topic, int total) {
  const std::string what = "grow '" + topic + "' to " + std::to_string(total) + " partitions";
  impl_->refuse_on_embedded_broker("CreatePartitions", what);
  char errstr[512];
  rd_kafka_NewPartitions_t* request = rd_kafka_NewPartitions_new(
      topic.c_str(), static_cast<std::size_t>(total), errstr, sizeof errstr);
  if (request == nullptr)
    throw Exception(Error(Errc::invalid_argument, Stage::admin, "cannot " + what + ": " + errstr));
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
  rd_kafka_CreatePartitions(impl_->client.get(), &request, 1, options.get(), impl_->queue.get());
  rd_kafka_NewPartitions_destroy(request);
  const auto event = impl_->wait("CreatePartitions", what);
  std::size_t count = 0;
  const auto** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(event.get()), &count);
  impl_->check_topic_results(results, count, "CreatePartitions", what);
}

void Admin::alter_topic_configs(const std::string& topic,
                                const std::map<std::string, std::string>& configs) {
  const std::string what = "change the configs of '" + topic + "'";
  impl_->refuse_on_embedded_broker("AlterConfigs", what);
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  for (const auto& [name, value] : configs)
    rd_kafka_ConfigResource_set_config(resource, name.c_str(), value.c_str());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
  rd_kafka_AlterConfigs(impl_->client.get(), &resource, 1, options.get(), impl_->queue.get());
  rd_kafka_ConfigResource_destroy(resource);
  const auto event = impl_->wait("AlterConfigs", what);
  std::size_t count = 0;
  const auto** resources = rd_kafka_AlterConfigs_result_resources(
      rd_kafka_event_AlterConfigs_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    impl_->check_resource(resources[i], "AlterConfigs", what);
  }
}

void Admin::delete_topic(const std::string& topic) {
  const std::string what = "delete topic '" + topic + "'";
  impl_->refuse_on_embedded_broker("DeleteTopics", what);
  rd_kafka_DeleteTopic_t* request = rd_kafka_DeleteTopic_new(topic.c_str());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_DeleteTopics(impl_->client.get(), &request, 1, options.get(), impl_->queue.get());
  rd_kafka_DeleteTopic_destroy(request);
  const auto event = impl_->wait("DeleteTopics", what);
  std::size_t count = 0;
  const auto** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(results[i]) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      throw Exception(Error(Errc::unknown_channel, Stage::admin,
                            "cannot " + what + ": no such topic on " + impl_->options.brokers,
                            std::nullopt, KafkaError::unknown_topic_or_partition));
    }
  }
  impl_->check_topic_results(results, count, "DeleteTopics", what);
}

std::int64_t Admin::delete_records(const std::string& topic, std::int32_t partition,
                                   std::int64_t before) {
  const std::string what = "delete the records of " + topic + " [" + std::to_string(partition) +
                           "] before offset " + std::to_string(before);
  impl_->refuse_on_embedded_broker("DeleteRecords", what);
  detail::PartitionListPtr offsets(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), partition)->offset = before;
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(offsets.get());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_DELETERECORDS);
  rd_kafka_DeleteRecords(impl_->client.get(), &request, 1, options.get(), impl_->queue.get());
  rd_kafka_DeleteRecords_destroy(request);
  const auto event = impl_->wait("DeleteRecords", what);
  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event.get()));
  if (result == nullptr || result->cnt != 1) {
    throw Exception(admin_error(RD_KAFKA_RESP_ERR__BAD_MSG, "DeleteRecords", what, "no answer"));
  }
  if (result->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw Exception(admin_error(result->elems[0].err, "DeleteRecords", what,
                                rd_kafka_err2str(result->elems[0].err)));
  }
  return result->elems[0].offset;
}

std::vector<std::string> Admin::list_groups() {
  const std::string what = "list the consumer groups";
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
  rd_kafka_ListConsumerGroups(impl_->client.get(), options.get(), impl_->queue.get());
  const auto event = impl_->wait("ListGroups", what);
  const auto* result = rd_kafka_event_ListConsumerGroups_result(event.get());
  // Each broker answers for the groups it coordinates: one that did not
  // answer would leave its groups out of the list, so it is an error.
  std::size_t failures = 0;
  const auto** errors = rd_kafka_ListConsumerGroups_result_errors(result, &failures);
  if (failures > 0) {
    const auto err = rd_kafka_error_code(errors[0]);
    throw Exception(admin_error(err, "ListGroups", what, rd_kafka_error_string(errors[0])));
  }
  std::size_t count = 0;
  const auto** groups = rd_kafka_ListConsumerGroups_result_valid(result, &count);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i)
    out.emplace_back(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
  std::sort(out.begin(), out.end());
  return out;
}

void Admin::delete_group(const std::string& group) {
  const std::string what = "delete group '" + group + "'";
  rd_kafka_DeleteGroup_t* request = rd_kafka_DeleteGroup_new(group.c_str());
  auto options = impl_->request_options(RD_KAFKA_ADMIN_OP_DELETEGROUPS);
  rd_kafka_DeleteGroups(impl_->client.get(), &request, 1, options.get(), impl_->queue.get());
  rd_kafka_DeleteGroup_destroy(request);
  const auto event = impl_->wait("DeleteGroups", what);
  std::size_t count = 0;
  const auto** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    const rd_kafka_error_t* error = rd_kafka_group_result_error(results[i]);
    if (error == nullptr) continue;
    const auto err = rd_kafka_error_code(error);
    if (err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
      throw Exception(Error(Errc::unknown_channel, Stage::admin,
                            "cannot " + what + ": no such group on " + impl_->options.brokers,
                            std::nullopt, KafkaError::group_id_not_found));
    }
    throw Exception(admin_error(err, "DeleteGroups", what, rd_kafka_error_string(error)));
  }
}

}  // namespace corps
