#include "page_json.hpp"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

namespace corps::pipeline {

namespace {

namespace pb = google::protobuf;

bool is_64_bit(const pb::FieldDescriptor& field) {
  return field.cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64 ||
         field.cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT64;
}

// A 64-bit integer protobuf's printer wrote as a string, as a number.
void to_number(nlohmann::json& value, const pb::FieldDescriptor& field) {
  if (!value.is_string()) return;
  const auto& text = value.get_ref<const std::string&>();
  if (field.cpp_type() == pb::FieldDescriptor::CPPTYPE_INT64) {
    value = std::stoll(text);
  } else {
    value = std::stoull(text);
  }
}

// Walks `json`, printed from a message of type `type`, by the type's fields.
void numbers_in(nlohmann::json& json, const pb::Descriptor& type);

void numbers_in_value(nlohmann::json& value, const pb::FieldDescriptor& field) {
  if (field.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    numbers_in(value, *field.message_type());
  } else if (is_64_bit(field)) {
    to_number(value, field);
  }
}

void numbers_in(nlohmann::json& json, const pb::Descriptor& type) {
  if (!json.is_object()) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const auto& field = *type.field(i);
    const auto found = json.find(field.json_name());
    if (found == json.end()) continue;
    if (field.is_map()) {
      // A map's keys are strings in JSON whatever their type; its values
      // are the map entry's second field.
      const auto& value_field = *field.message_type()->map_value();
      for (auto& [key, value] : found->items()) numbers_in_value(value, value_field);
    } else if (field.is_repeated()) {
      for (auto& element : *found) numbers_in_value(element, field);
    } else {
      numbers_in_value(*found, field);
    }
  }
}

}  // namespace

std::string page_json(const pb::Message& message) {
  std::string printed;
  (void)pb::util::MessageToJsonString(message, &printed);
  auto json = nlohmann::json::parse(printed);
  numbers_in(json, *message.GetDescriptor());
  return json.dump();
}

}  // namespace corps::pipeline
